package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/sledgo/sled"
)

var statsCmd = &command{
	name:     "stats",
	synopsis: "-path DIR [-tree NAME] [-json]",
	short:    "print the database's counters and size on disk (-json: as a JSON object)",
	minArgs:  0,
	maxArgs:  0,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		f := dbFlags{readOnly: true} // reading never creates or changes a database
		f.register(fs)
		asJSON := fs.Bool("json", false, "print one JSON object: Tree, Entries and the fields of sled.Stats, by their Go names")
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
				if *asJSON {
					return writeStatsJSON(e, t.Name(), entries, db.Stats())
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

// statsJSON is what stats -json prints. Its field names are the Go names
// of sled.Stats (a field added there appears here by itself), after the
// Tree and Entries of the text output; its DiskBytes is the text's "size
// on disk". BackgroundError, an error in sled.Stats, is its message or
// null.
type statsJSON struct {
	Tree    string
	Entries int
	sled.Stats
	BackgroundError *string // hides sled.Stats.BackgroundError: json.Marshal cannot print an error
}

func writeStatsJSON(e *env, tree string, entries int, s sled.Stats) error {
	v := statsJSON{Tree: tree, Entries: entries, Stats: s}
	if s.BackgroundError != nil {
		msg := s.BackgroundError.Error()
		v.BackgroundError = &msg
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
