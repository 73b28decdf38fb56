package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/sledgo/sled"
)

var getCmd = &command{
	name:     "get",
	synopsis: "-path DIR [-tree NAME] [-hex | -raw] KEY",
	short:    "print the value of a key",
	minArgs:  1,
	maxArgs:  1,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		f := dbFlags{readOnly: true} // reading never creates or changes a database
		f.register(fs)
		isHex := fs.Bool("hex", false, "KEY is hex, and the value is printed as hex")
		raw := fs.Bool("raw", false, "write the value's bytes exactly, without quoting or newline")
		return func(e *env, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if *isHex && *raw {
				return usagef("-hex and -raw exclude each other")
			}
			key, err := parseBytes("key", args[0], *isHex)
			if err != nil {
				return err
			}
			return e.withDB(&f, func(db *sled.DB) error {
				t, err := f.openTree(db, false)
				if err != nil {
					return err
				}
				v, err := t.Get(key)
				if err != nil {
					return err
				}
				if v == nil {
					return errKeyNotFound
				}
				if *raw {
					_, err = e.stdout.Write(v)
					return err
				}
				_, err = fmt.Fprintln(e.stdout, formatBytes(v, *isHex))
				return err
			})
		}
	},
}

// errKeyNotFound is the failure of get for an absent key.
var errKeyNotFound = errors.New("key not found")
