package main

import (
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/sledgo/sled"
)

var statsCmd = &command{
	name:     "stats",
	synopsis: "-path DIR [-tree NAME]",
	short:    "print the database's counters and size on disk",
	minArgs:  0,
	maxArgs:  0,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		f := dbFlags{readOnly: true} // reading never creates or changes a database
		f.register(fs)
		return func(e *env, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return e.withDB(&f, func(db *sled.DB) error {
				t, err := f.openTree(db, false)
				if err != nil {
					return err
				}
				entries, err := t.Len()
				if err != nil {
					return err
				}
				size, err := db.SizeOnDisk()
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
				fmt.Fprintf(tw, "tree\t%s\n", formatBytes([]byte(t.Name()), false))
				fmt.Fprintf(tw, "entries\t%d\n", entries)
				writeStats(tw, db.Stats())
				fmt.Fprintf(tw, "size on disk\t%d (%s)\n", size, byteSize(size))
				return tw.Flush()
			})
		}
	},
}

// writeStats prints the fields of s, one "name<TAB>value" line each; stats
// and bench share it.
func writeStats(w *tabwriter.Writer, s sled.Stats) {
	fmt.Fprintf(w, "trees\t%d\n", s.Trees)
	fmt.Fprintf(w, "pages\t%d\n", s.Pages)
	fmt.Fprintf(w, "cache bytes\t%d (%s)\n", s.CacheBytes, byteSize(s.CacheBytes))
	fmt.Fprintf(w, "page updates\t%d\n", s.PageUpdates)
	fmt.Fprintf(w, "page images\t%d\n", s.PageImages)
	fmt.Fprintf(w, "page fragments\t%d\n", s.PageFragments)
}
