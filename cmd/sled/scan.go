package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"

	"github.com/sledgo/sled"
)

var scanCmd = &command{
	name:     "scan",
	synopsis: "-path DIR [-tree NAME] [-hex] [-prefix P] [-from K] [-to K] [-limit N] [-rev]",
	short:    "print the entries of a key range as key<TAB>value lines",
	minArgs:  0,
	maxArgs:  0,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		f := dbFlags{readOnly: true} // reading never creates or changes a database
		f.register(fs)
		isHex := fs.Bool("hex", false, "bounds are hex, and keys and values are printed as hex")
		prefix := fs.String("prefix", "", "only keys that start with `P`")
		from := fs.String("from", "", "only keys >= `K`")
		to := fs.String("to", "", "only keys < `K` (default: no upper bound)")
		limit := fs.Int("limit", 0, "print at most `N` entries (0: all)")
		rev := fs.Bool("rev", false, "descending order")
		return func(e *env, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if *limit < 0 {
				return usagef("-limit %d is negative", *limit)
			}
			p, err := parseBytes("prefix", *prefix, *isHex)
			if err != nil {
				return err
			}
			lo, err := parseBytes("-from", *from, *isHex)
			if err != nil {
				return err
			}
			var hi []byte
			if isFlagSet(fs, "to") {
				if hi, err = parseBytes("-to", *to, *isHex); err != nil {
					return err
				}
			}
			lo, hi = intersect(lo, hi, p)
			return e.withDB(&f, func(db *sled.DB) error {
				t, err := f.openTree(db, false)
				if err != nil {
					return err
				}
				if hi != nil && bytes.Compare(lo, hi) >= 0 {
					return nil // lo >= hi: the range is empty
				}
				it := t.Range(lo, hi)
				if *rev {
					it.Rev()
				}
				w := bufio.NewWriter(e.stdout)
				n := 0
				for (*limit == 0 || n < *limit) && it.Next() {
					fmt.Fprintf(w, "%s\t%s\n", formatBytes(it.Key(), *isHex), formatBytes(it.Value(), *isHex))
					n++
				}
				return errors.Join(it.Err(), it.Close(), w.Flush())
			})
		}
	},
}

// intersect narrows [lo, hi) (hi == nil: unbounded) to the keys with prefix.
func intersect(lo, hi, prefix []byte) ([]byte, []byte) {
	if len(prefix) == 0 {
		return lo, hi
	}
	if bytes.Compare(prefix, lo) > 0 {
		lo = prefix
	}
	if end := prefixEnd(prefix); end != nil && (hi == nil || bytes.Compare(end, hi) < 0) {
		hi = end
	}
	return lo, hi
}

// prefixEnd returns the smallest key greater than every key with the prefix,
// or nil when there is none (the prefix is all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte{}, prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// isFlagSet reports whether the command line set the flag called name.
func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
