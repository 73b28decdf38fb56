//go:build nobadger

package main

import "errors"

// openBadger: this binary was built with -tags nobadger (memory mode builds one
// binary per engine, linking only that engine; see child.go).
func openBadger(Options) (Engine, error) {
	return nil, errors.New("badger is not linked into this binary (built with -tags nobadger)")
}
