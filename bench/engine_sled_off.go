//go:build nosled

package main

import "errors"

// openSled: this binary was built with -tags nosled (memory mode builds one
// binary per engine, linking only that engine; see child.go).
func openSled(Options) (Engine, error) {
	return nil, errors.New("sled is not linked into this binary (built with -tags nosled)")
}
