package main

import (
	"flag"

	"github.com/sledgo/sled"
)

var removeCmd = &command{
	name:     "remove",
	synopsis: "-path DIR [-tree NAME] [-hex] [-must-exist] KEY",
	short:    "delete a key",
	minArgs:  1,
	maxArgs:  1,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var f dbFlags
		f.register(fs)
		isHex := fs.Bool("hex", false, "KEY is hex")
		mustExist := fs.Bool("must-exist", false, "fail when the key is absent")
		return func(e *env, args []string) error {
			if err := f.check(); err != nil {
				return err
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
				prev, err := t.Remove(key)
				if err == nil && prev == nil && *mustExist {
					return errKeyNotFound
				}
				return err
			})
		}
	},
}
