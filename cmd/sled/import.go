package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/codec"
)

var importCmd = &command{
	name:     "import",
	synopsis: "-path DIR [-tree NAME] [FILE | -]",
	short:    "insert the entries of a dump (from FILE or stdin), creating trees as needed",
	minArgs:  0,
	maxArgs:  1,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var f dbFlags
		f.register(fs)
		return func(e *env, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			src := "-"
			if len(args) == 1 {
				src = args[0]
			}
			var r io.Reader = e.stdin
			if src != "-" {
				fh, err := os.Open(src)
				if err != nil {
					return err
				}
				defer fh.Close()
				r = fh
			}
			r = bufio.NewReader(r)
			return e.withDB(&f, func(db *sled.DB) error {
				var err error
				if f.tree == "" {
					err = db.Import(r)
				} else {
					err = importTree(db, r, f.tree)
				}
				if err != nil {
					return fmt.Errorf("importing %s: %w", src, err)
				}
				return nil
			})
		}
	},
}

// importTree inserts the entries of tree name from the dump r and skips
// every other tree's. It fails if the dump does not hold that tree.
func importTree(db *sled.DB, r io.Reader, name string) error {
	d, err := codec.NewDumpReader(r, codec.Limits{
		MaxKeyBytes:   sled.MaxKeyBytes,
		MaxValueBytes: sled.MaxValueBytes,
		MaxNameBytes:  sled.MaxTreeNameBytes,
	})
	if err != nil {
		return err
	}
	var t *sled.Tree
	for {
		rec, ok, err := d.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch {
		case rec.Tree != name:
		case rec.Key == nil:
			if t, err = db.OpenTree(name); err != nil {
				return err
			}
		default:
			if _, err := t.Insert(rec.Key, rec.Value); err != nil {
				return err
			}
		}
	}
	if t == nil {
		return fmt.Errorf("%w: the dump holds no tree %q", sled.ErrTreeNotFound, name)
	}
	return nil
}
