// Package sled is an embedded key-value database: ordered maps (trees) from
// byte-string keys to byte-string values, safe for concurrent use by many
// goroutines, with lock-free reads and writes.
//
// The mental model needs a few types. Open a DB; it embeds its default Tree,
// and OpenTree gives more named trees. A Tree is an ordered map with point
// operations (Get, Insert, Remove, CompareAndSwap, Update, Merge), ordered
// reads (GetLT, GetGT, First, Last, Iter, Range, ScanPrefix) and atomic
// multi-key writes (ApplyBatch). WatchPrefix streams the writes under a
// prefix.
//
// Inside, a tree is a lock-free B-link tree (internal/tree) over a page table
// (internal/pagecache): every node is an immutable snapshot replaced by one
// compare-and-swap, so a read is a few atomic loads and binary searches and
// never waits for a writer. Each change appends only its small fragment (a
// delta, or a full image every few changes; a batch, one fragment per leaf)
// to a lock-free log (internal/log) of segment files, and every change of a
// page's state goes through one transition primitive whose log record and
// CASes keep the crash invariants by construction; nodes not in the cache
// are rebuilt from their fragments. Open reads a snapshot of page locations and replays the
// log after it; a background cleaner rewrites the live pages of mostly-dead
// segments and removes them.
//
// # Durability
//
// Flush makes every write that returned before it durable; concurrent
// Flushes share one fsync. Without Flush, writes become durable within
// Config.FlushEvery. After a crash the database holds a prefix of the
// completed writes, batches whole. Checksums detect torn or corrupt data,
// which is never returned: such errors match ErrCorruption, as does a
// missing or cut-short log file. After a failed write or fsync the database
// refuses further writes. A failure of background work (cleaning, the
// periodic snapshot) is reported by Stats and Check, and when it means
// corruption or a failed log, by every later call.
//
// Close waits for the operations in flight and flushes; later calls return
// ErrClosed. Config.ReadOnly opens an existing database without writing a
// byte to it (several read-only opens may share it).
//
// # Caveats
//
//   - Returned slices (values, iterator keys and values, event contents) are
//     shared with the engine's immutable nodes: they stay valid forever and
//     the engine never changes them, but the caller must not modify them.
//     Slices passed in are copied.
//   - Iterators over a live tree are not snapshots: each key present and
//     unchanged for the whole iteration is returned, others may or may not be.
//   - Update, FetchAndUpdate, CompareAndSwap callbacks and merge operators may
//     run more than once; they must not have side effects.
//   - A subscriber that stops reading stalls writers under its prefix once its
//     buffer is full (events are never dropped); see Subscriber.
//   - Len, Clear, Checksum and Export are not atomic while writes run.
//   - ApplyBatch (and PopMin/PopMax when the edge leaf is empty) briefly
//     excludes the other writers of the database; readers never wait for
//     writers, only for a batch being applied.
//   - Stats walks the page table: call it for monitoring, not per operation.
package sled
