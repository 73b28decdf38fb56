package main

import (
	"flag"

	"github.com/sledgo/sled"
)

var insertCmd = &command{
	name:     "insert",
	synopsis: "-path DIR [-tree NAME] [-hex] KEY VALUE",
	short:    "set a key to a value (creating the tree if needed)",
	minArgs:  2,
	maxArgs:  2,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var f dbFlags
		f.register(fs)
		isHex := fs.Bool("hex", false, "KEY and VALUE are hex")
		return func(e *env, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			key, err := parseBytes("key", args[0], *isHex)
			if err != nil {
				return err
			}
			value, err := parseBytes("value", args[1], *isHex)
			if err != nil {
				return err
			}
			return e.withDB(&f, func(db *sled.DB) error {
				t, err := f.openTree(db, true)
				if err != nil {
					return err
				}
				_, err = t.Insert(key, value)
				return err
			})
		}
	},
}
