//go:build nopebble

package main

import "errors"

// openPebble: this binary was built with -tags nopebble (memory mode builds one
// binary per engine, linking only that engine; see child.go).
func openPebble(Options) (Engine, error) {
	return nil, errors.New("pebble is not linked into this binary (built with -tags nopebble)")
}
