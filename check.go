package sled

// Verification: Check (structure and page leaks) and Checksum (contents).

import (
	"fmt"
	"hash/crc32"

	"github.com/sledgo/sled/internal/node"
)

// Checksum returns a CRC-32 (IEEE) over the contents of all trees, in name
// order: for each tree its name, then each entry's key and value, each
// preceded by its length as 4 little-endian bytes. It is computed while
// writes may run, so it describes a consistent state only when none do.
func (db *DB) Checksum() (uint32, error) {
	op, err := db.enter()
	if err != nil {
		return 0, err
	}
	defer db.exit(op)
	h := crc32.NewIEEE()
	var l [4]byte
	put := func(b []byte) {
		n := len(b)
		l[0], l[1], l[2], l[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
		h.Write(l[:])
		h.Write(b)
	}
	for _, t := range db.trees() {
		put([]byte(t.name))
		it := t.Iter()
		for it.Next() {
			put(it.Key())
			put(it.Value())
		}
		if err := it.Err(); err != nil {
			return 0, err
		}
		it.Close()
	}
	return h.Sum32(), nil
}

// Check verifies the structural invariants of every tree and that no page
// is leaked, and reports a failure of background work (cleaning,
// snapshots) since Open. It must run while no other operation does (tests
// call it before Close; the CLI's check command on an idle database).
// Structural errors match ErrCorruption.
func (db *DB) Check() error {
	op, err := db.enter()
	if err != nil {
		return err
	}
	defer db.exit(op)
	reachable := int64(0)
	for _, t := range db.trees() {
		if _, err := t.t.Check(func(node.PageID) { reachable++ }); err != nil {
			return corruption(fmt.Errorf("tree %q: %w", t.name, err))
		}
	}
	if got := db.pc.Stats().Allocated; got != reachable {
		return corruption(fmt.Errorf("%d pages allocated but %d reachable", got, reachable))
	}
	if e := db.bg.err.Load(); e != nil {
		return *e
	}
	return nil
}
