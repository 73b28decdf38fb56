//go:build nobbolt

package main

import "errors"

// openBbolt: this binary was built with -tags nobbolt (memory mode builds one
// binary per engine, linking only that engine; see child.go).
func openBbolt(Options) (Engine, error) {
	return nil, errors.New("bbolt is not linked into this binary (built with -tags nobbolt)")
}
