package main

import (
	"flag"
	"fmt"

	"github.com/sledgo/sled"
)

var checkCmd = &command{
	name:     "check",
	synopsis: "-path DIR [-tree NAME] [-q]",
	short:    "verify the database's invariants; print \"ok\" or the problem",
	minArgs:  0,
	maxArgs:  0,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		f := dbFlags{readOnly: true} // reading never creates or changes a database
		f.register(fs)
		quiet := quietFlag(fs)
		return func(e *env, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return e.withDB(&f, func(db *sled.DB) error {
				// db.Check covers every tree; -tree only asserts that the
				// named one exists.
				if _, err := f.openTree(db, false); err != nil {
					return err
				}
				// db.Check is one call that reports nothing until it
				// returns, so a spinner shows it is at work. A count of
				// pages checked would need a callback from the library.
				p := e.progress(*quiet, "checking", 0, unitNone)
				err := db.Check()
				p.done()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(e.stdout, "ok")
				return err
			})
		}
	},
}
