package sled

import (
	"errors"
	"fmt"
	"io"

	"github.com/sledgo/sled/internal/codec"
)

// Export writes a portable, versioned dump of every tree to w (format:
// internal/codec, "Dump"). It is consistent per key, not across keys, when
// writes run concurrently.
func (db *DB) Export(w io.Writer) error {
	if db.closed.Load() {
		return ErrClosed
	}
	d := codec.NewDumpWriter(w)
	for _, t := range db.trees() {
		if err := d.Tree(t.name); err != nil {
			return err
		}
		it := t.Iter()
		for it.Next() {
			if err := d.Entry(it.Key(), it.Value()); err != nil {
				it.Close()
				return err
			}
		}
		if err := it.Err(); err != nil {
			return err
		}
		it.Close()
	}
	return d.Close()
}

// Import reads a dump written by Export and inserts its entries, creating
// trees as needed. Every record is checksummed: a damaged or truncated dump
// fails with an error matching ErrCorruption. Import is not atomic: entries
// read before the damage stay inserted; existing entries are only ever
// overwritten by the dump's, never removed.
func (db *DB) Import(r io.Reader) error {
	if db.closed.Load() {
		return ErrClosed
	}
	if db.cfg.ReadOnly {
		return ErrReadOnly
	}
	d, err := codec.NewDumpReader(r, codec.Limits{MaxKeyBytes: MaxKeyBytes, MaxValueBytes: MaxValueBytes, MaxNameBytes: MaxTreeNameBytes})
	if err != nil {
		return importErr(err)
	}
	var t *Tree
	for {
		rec, ok, err := d.Next()
		if err != nil {
			return importErr(err)
		}
		if !ok {
			return nil
		}
		if rec.Key == nil {
			if t, err = db.OpenTree(rec.Tree); err != nil {
				return err
			}
			continue
		}
		if _, err := t.Insert(rec.Key, rec.Value); err != nil {
			return err
		}
	}
}

func importErr(err error) error {
	if errors.Is(err, codec.ErrCorrupt) {
		return corruption(fmt.Errorf("sled: import: %w", err))
	}
	return fmt.Errorf("sled: import: %w", err)
}
