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
	synopsis: "-path DIR [-tree NAME] [-q] [FILE | -]",
	short:    "insert the entries of a dump (from FILE or stdin), creating trees as needed",
	minArgs:  0,
	maxArgs:  1,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var f dbFlags
		f.register(fs)
		quiet := quietFlag(fs)
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
			return e.withDB(&f, func(db *sled.DB) error {
				// Count the bytes read against the dump's size when it is
				// a file (stdin too, when redirected from one); a pipe's
				// size is unknown: a spinner.
				p := e.progress(*quiet, "importing", regularFileSize(r), unitBytes)
				defer p.done()
				br := bufio.NewReader(p.reader(r))
				var err error
				if f.tree == "" {
					err = db.Import(br)
				} else {
					err = importTree(db, br, f.tree)
				}
				if err != nil {
					return fmt.Errorf("importing %s: %w", src, err)
				}
				return nil
			})
		}
	},
}

// regularFileSize returns the size of r if it is a regular file, else 0
// (unknown).
func regularFileSize(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return 0
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
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
