// Package raftstore is a hashicorp/raft LogStore and StableStore on sled,
// a drop-in replacement for raft-boltdb:
//
//	store, err := raftstore.Open(filepath.Join(dir, "raft"))
//	if err != nil { ... }
//	defer store.Close()
//	r, err := raft.NewRaft(conf, fsm, store, store, snapshots, transport)
//
// One *Store is both the LogStore and the StableStore. Logs live in their
// own sled tree under 8-byte big-endian index keys, so FirstIndex and
// LastIndex are one seek each. StoreLogs writes its logs as one atomic sled
// batch and then waits for sled's group commit: concurrent writers (raft's
// log appends, its stable-store writes, a snapshot's DeleteRange) share one
// fsync. DeleteRange is one atomic batch too.
//
// The store tolerates gaps between indexes (as raft-boltdb does), so it
// does not implement raft.MonotonicLogStore: raft then keeps relying on a
// gap after a snapshot restore instead of deleting every log first, which
// is correct here and cheaper.
//
// Each raft.Log is stored in a versioned encoding that keeps every field
// (see encoding.go); a value this package cannot read is reported as an
// error matching sled.ErrCorruption (and ErrUnknownVersion or
// ErrBadEncoding), never returned as a log.
package raftstore
