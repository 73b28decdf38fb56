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
// never waits for a writer.
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
package sled
