package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/codec"
)

var exportCmd = &command{
	name:     "export",
	synopsis: "-path DIR [-tree NAME] [-q] [FILE | -]",
	short:    "write a portable dump of the database (or one tree) to FILE or stdout",
	minArgs:  0,
	maxArgs:  1,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		f := dbFlags{readOnly: true} // reading never creates or changes a database
		f.register(fs)
		quiet := quietFlag(fs)
		return func(e *env, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			dst := "-"
			if len(args) == 1 {
				dst = args[0]
			}
			return e.withDB(&f, func(db *sled.DB) error {
				var t *sled.Tree
				if f.tree != "" {
					var err error
					if t, err = f.openTree(db, false); err != nil {
						return err
					}
				}
				var p *progress
				if t == nil {
					// db.Export writes every tree in one call: count the
					// bytes of the dump, whose size is not known ahead.
					p = e.progress(*quiet, "exporting", 0, unitBytes)
				} else {
					// Count entries against the tree's length, counted
					// only when the bar shows: it reads every leaf. An
					// error leaves the total unknown (a spinner); the
					// export meets it again and reports it.
					var total int
					if e.showsProgress(*quiet) {
						total, _ = t.Len()
					}
					p = e.progress(*quiet, "exporting", int64(total), unitEntries)
				}
				defer p.done()
				return writeTo(e, dst, func(w io.Writer) error {
					if t == nil {
						return db.Export(p.writer(w))
					}
					return exportTree(w, t, p)
				})
			})
		}
	},
}

// exportTree writes a dump, in db.Export's format, holding only t. It adds
// each entry written to p.
func exportTree(w io.Writer, t *sled.Tree, p *progress) error {
	d := codec.NewDumpWriter(w)
	if err := d.Tree(t.Name()); err != nil {
		return err
	}
	it := t.Iter()
	defer it.Close()
	for it.Next() {
		if err := d.Entry(it.Key(), it.Value()); err != nil {
			return err
		}
		p.add(1)
	}
	if err := it.Err(); err != nil {
		return err
	}
	return d.Close()
}

// writeTo runs fn on stdout (dst "-") or on a new file dst, which it removes
// again if fn fails so that no partial dump is left behind.
func writeTo(e *env, dst string, fn func(io.Writer) error) error {
	if dst == "-" {
		w := bufio.NewWriter(e.stdout)
		return errors.Join(fn(w), w.Flush())
	}
	fh, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(fh)
	err = errors.Join(fn(w), w.Flush(), fh.Sync(), fh.Close())
	if err != nil {
		os.Remove(dst)
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	return nil
}
