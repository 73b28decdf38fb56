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
// # Transactions and snapshots
//
// DB.Transaction runs a function in a serializable read-write transaction
// over any trees; DB.View and DB.Snapshot read one consistent committed
// state. Transactions are optimistic: reads go to the trees as they are,
// writes are buffered, and the commit locks the stripes of the keys read
// and written (a table of locks by key hash, so transactions on disjoint
// keys commit in parallel), checks that every read still holds, and
// installs the writes as one atomic step that readers see whole. A
// transaction that finds a read changed runs again (MaxTxAttempts). Single-key
// writes take their key's stripe too, so they serialize with transactions.
// Readers never wait: a reader that meets a commit installing reads the
// values it replaces. Snapshots are timestamps: while one is open, writes
// keep the values they overwrite in memory (bounded by
// Config.MaxSnapshotBytes); see Snapshot.
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
//     buffer is full (events are never dropped); see Subscriber. The stalled
//     writers hold their keys' locks, so opening the first snapshot (which
//     waits for the writes in flight) stalls too.
//   - Len, Clear, Checksum and Export are not atomic while writes run.
//   - A transaction's function may observe a state that its commit then
//     finds in conflict (that run is discarded and the function runs
//     again); it must not call writes of the database itself.
//   - Update, FetchAndUpdate, CompareAndSwap and Merge callbacks run while
//     their key's stripe is held: they must not write to the database.
//   - Stats walks the page table: call it for monitoring, not per operation.
package sled

// Invariants of the concurrency control (transactions, batches, snapshots;
// tx*.go). Every lock-free or locking step that keeps one names it.
//
//	T1. Every write of a key (single-key operation, transaction, batch,
//	    pop) holds the key's stripe from before it reads the key's value
//	    until its change is in the tree and, for a multi-key commit, its
//	    end record is appended. A committing transaction also holds the
//	    stripes of the keys it read. Stripes are locked in increasing
//	    index order, so no two writers wait for each other in a cycle.
//	T2. A transaction commits only if, with those stripes held, every
//	    point read gives the value it gave and every range read, read
//	    again as readers read, gives the entries it gave up to where the
//	    transaction stopped (to its end if it read it all); otherwise it
//	    writes nothing. It is serialized at that validation.
//	T3. A multi-key commit stores itself in the stripe of every key it
//	    holds (stripe.inst), with the pre-image of every key it writes,
//	    before its first change to a tree, and becomes committed (its
//	    timestamp) only after its last; it clears the stripes after that.
//	    It is registered from before its first change until after it
//	    committed. A reader reads the tree first, then the registry count
//	    (zero: nothing it read is uncommitted) and the stripe, and returns
//	    the pre-image while the commit is not committed. A positioned read
//	    (First, GetGT, ...) corrects with every commit installing in its
//	    tree and retries when a multi-key commit became visible during it
//	    (flips).
//	T4. While versions are recorded, a write loads the recording flag and
//	    the current generation under its stripe, records the key's old
//	    value (state writing) before the tree changes, and publishes its
//	    timestamp only after: writing -> committing -> clock.Add(1). A
//	    write that changed nothing becomes aborted.
//	T5. A snapshot's timestamp is the clock read after recording is on
//	    and every stripe was locked and released once since (no write
//	    that does not record is in flight). It reads a key from the tree,
//	    then its versions in generation and list order: the first that is
//	    writing or has a timestamp after the snapshot gives its old value;
//	    else the tree's value (a write after the tree read would have a
//	    version after the snapshot). A committing state is waited out: it
//	    lasts a few instructions.
//	T6. A generation is dropped only when sealed (a newer one takes the
//	    writes, every stripe was locked once since, and its seal clock was
//	    read after) and every open snapshot's timestamp is at or after the
//	    seal clock. Recording stops only when no snapshot is open.
//	T7. A multi-key commit appends its redo record (every write) before
//	    its first change to a tree and its end record after its last,
//	    before it releases its stripes; it is registered from before the
//	    redo record until after the end record. A page-table snapshot's
//	    replay start is at most the log tail read when each registered
//	    commit registered. Open applies every redo record without an end
//	    record, in log order, and appends its end record.
//	T8. The clock only grows; each commit takes a distinct timestamp.
//	T9. A transaction with range reads and writes announces its ranges,
//	    sweeps every stripe it does not hold, then locks and validates. A
//	    writer checks the announced ranges after locking its stripes: it
//	    waits out one validated (holding its stripes) and releases its
//	    stripes to wait for one not yet validated; a transaction with
//	    ranges that would write into another's aborts instead.
