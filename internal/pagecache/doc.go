// Package pagecache maps page ids to page states and keeps the invariants
// that let the tree above it be lock-free.
//
// A page's state is an immutable *Page: the materialized node (for a leaf,
// a flat base and a small overlay of the writes since it was built,
// node/overlay.go, so that a write copies the overlay, not the leaf) plus
// the bookkeeping of the fragments (deltas) that produced it since its last
// full image. Readers Load the state with one atomic load; writers build a new
// state and install it with one compare-and-swap (Update). The page table is
// a grow-only two-level array, so a lookup never takes a lock.
//
// Invariants kept by this package (cited as P1..P17 at the sites that keep
// them; with the build tag `invariants` or under -race, the sites marked
// in the code assert them, package internal/invariants):
//
//	P1. A page's state changes only by a successful CAS from the exact state
//	    the writer read; a failed CAS changes nothing, so every installed
//	    state was derived from its predecessor.
//	P2. The page table only grows: the chunk holding a page id, once
//	    installed by CAS, is never replaced or freed.
//	P3. A page id is handed out by Allocate to exactly one caller, and is
//	    given out again only after its free and after every operation that
//	    was pinned when it was freed has unpinned (epoch reclamation,
//	    epoch.go). Until the transition that publishes it, a reserved page
//	    is reachable by nobody, so its owner's CASes on it cannot lose.
//	P4. A page has at most FragmentsPerImage-1 delta fragments after its
//	    last full image, and with a log its image and fragments on disk
//	    stay within twice the (estimated) size of an image of its current
//	    state, so at most half of a page's log bytes are dead: the update
//	    that would break either logs a full image instead (consolidation).
//	    A fragment is a write of entries (leaves) or a structure change
//	    (a split's left half, a posted child), applied in log order.
//	P5. Freed pages read as absent (Load returns ErrFreed), never as another
//	    page's content, until they are allocated again; a free page is never
//	    freed again (an id is never handed out twice). A tombstone is never
//	    changed by anybody but the transition that installed it (which may
//	    roll it back, P12) and Allocate after the id's epoch has passed.
//	P6. A page-in or an eviction changes only whether the node is resident,
//	    by a CAS from the exact state it judged; the locations and the stamp
//	    stay. A page is evicted only when all its fragments are written to
//	    the log file, and never while its transition is undecided.
//	P7. A page published by an update (Alloc) is logged in the same record
//	    as the update that links it, and a page unlinked by an update (Freed)
//	    is freed in that record: after a crash there is neither a link to an
//	    unlogged page nor an allocated page that nothing links to.
//	P8. A transition reserves its log record before its CASes and completes
//	    it after (aborts it when a CAS loses). A later CAS on the same page
//	    starts from this state, so it reserves later: per page, log order is
//	    CAS order, and every state's stamp is above its predecessor's.
//	P9. Replay is idempotent: a record at LSN x changes a page only when the
//	    page's stamp (its last location, or the LSN of its free) is below x.
//	P10. Every in-memory effect of a record (a published page, a freed page)
//	    is visible before the record's reservation completes, and undone
//	    before it aborts. A snapshot takes its replay start below every
//	    incomplete reservation, so it sees the effects of every record below
//	    its start and replay covers the rest.
//	P11. One primitive changes page states (transition.go, apply): reserve
//	    the record; CAS every page it names (pages it allocates, pages it
//	    frees, then the page it updates), each new state stamped with the
//	    record's LSN; then complete the record, or roll every page back
//	    before aborting. Page-in and eviction (P6) use the same CAS helper
//	    and change no stamp. Nothing else stores a page state, except
//	    recovery before the table is shared (P14).
//	P12. Only the last CAS of a transition (the decisive one) can lose to a
//	    racing writer of a reachable page. The changes before it are
//	    allocations of reserved pages (unreachable, P3) and frees (from the
//	    exact state read, so a racing relocation either lands first and the
//	    free loses, or loses to it; a tombstone is then changed by nobody,
//	    P5). So a rollback never loses its CAS, and a relocation can never
//	    land after the free of its page.
//	P13. While a transition is undecided, every state it installed before
//	    its decisive CAS carries the state it replaced (prior); the marks
//	    are cleared when the transition is decided, before its record
//	    completes. A snapshot reports the prior state of a marked page: a
//	    snapshot never records an effect of a record that may be canceled,
//	    and the record of a marked state is at or above the snapshot's replay
//	    start, so replay applies it if it completes.
//	P14. Recovery (RestorePage, RestoreFree, Replay, FinishRecovery) stores
//	    states directly, before Attach: nothing else can see the table yet.
//	P15. A state's stamp never goes back: a reserved page keeps the stamp of
//	    the free it replaced, and a reservation given back unlogged keeps it
//	    too, so a snapshot that reports a reserved (or released) page as
//	    free reports it free at its last free's LSN, and replay skips the
//	    records of the page's previous life (P9) instead of applying a delta
//	    of it to a page it believes free.
//
//	P16. A free staged by an undecided transition (a tombstone marked with
//	    its prior state, P13) reads as that prior state when it is resident
//	    (Load): readers never wait for another thread's transition to
//	    decide (I11). The frees staged are of frozen merge victims, whose
//	    readers read around them anyway, and of the pages a drop walked. A
//	    CAS from the prior state loses to the tombstone (P1), and a writer
//	    that loses to an undecided transition yields before it retries.
//
// Log cleaning keeps, with the cleaner in the root package:
//
//	C1. A page is relocated by an ordinary transition (Update with a full
//	    image), so P1, P8 and P12 order it against writers and frees.
//	C2. A segment is removed only after a durable snapshot and the current
//	    page states (including prior states, P13) name no fragment in it, and
//	    after every operation pinned before the snapshot has unpinned
//	    (WaitReaders): neither recovery nor a reader can need it.
//	C3. A page is consolidated (rewritten as one image because its page-ins
//	    keep needing several reads) by the same ordinary transition as C1,
//	    only while it is resident and allocated: consolidation changes
//	    where a page's bytes are, never what they are.
//	C4. Cleaning ends once writers stop: the cleaner picks a victim only
//	    when relocating its pages is expected to write at most 15/16 of a
//	    segment (SegmentUse.Rewrite), and a round that removed its victims
//	    without shrinking the files by 1/16 of a segment per victim stops
//	    cleaning until anything more is logged (a write, a batch, a drop). So every round after
//	    writers stop but the last shrinks the files by a fixed amount, and
//	    the files cannot shrink below zero.
//
// Memory:
//
//	M1. The resident memory (memBytes: nodes, their Pages and locations,
//	    counted in allocator size classes) is over its target only inside
//	    an operation: one that made pages resident evicts before it returns
//	    (payForMemory) until it is back under, or nothing is evictable, or
//	    what blocks eviction is a fragment the log has not written (P6), for
//	    which it waits once. The target is the capacity less tableBytes (the
//	    states of pages not resident, kept exact by swap and counted once
//	    after recovery), but at least a quarter of the capacity.
//	M2. A page-in's node lives in a slot of the cache's arena
//	    (internal/slab), outside the Go heap, and is charged at SlotChargePercent of its slot's
//	    size: the capacity is in Go heap bytes, which cost the process up
//	    to (1 + GOGC/100) times their size, a slot its size once. A retired
//	    slot (P17) counts in waitBytes until it is back in the arena, apart
//	    from memBytes (evicting more cannot return it sooner); once those
//	    pass an eighth of the capacity (an operation pinned for long holds
//	    the epoch back), page-ins go on the heap, which the collector
//	    frees without waiting for epochs. The slots resident then may still
//	    retire while that operation runs, so the bound on waitBytes is an
//	    eighth of the capacity plus the slots resident at that point. Free
//	    slots that no page-in needed through a trim interval give their
//	    pages back to the system beyond a sixteenth of the capacity (slab
//	    S4; the evictor trims), so the arena holds the slots in use and
//	    waiting, what page-ins keep reusing, and that sixteenth, not its
//	    high-water mark.
//	P17. A slot is read only by operations pinned while a state holding
//	    it was current, and goes back to the arena only after every such
//	    operation unpinned: a decided transition or an eviction that
//	    replaces a state holding a slot with one that does not share it
//	    retires the slot at the current epoch e, and it is returned when
//	    the global epoch reaches e+2 (as page ids, P3). A transition retires
//	    only once decided, since a rollback reinstalls the old state (P12);
//	    a page-in whose node is not installed returns its slot at once,
//	    as nobody saw it. Nothing read from a slot leaves a pinned
//	    operation by reference (tree I13): values and leaves handed out are
//	    copies.
//	R1. A slot's resident hint (residentBit) is set whenever its page is
//	    resident and no transition of it is in flight: swap sets it after
//	    every CAS to a resident state, and one that makes the page not
//	    resident clears it and then sets it again if the state it reads
//	    back is resident (a page-in that raced it). Eviction skips slots
//	    without the hint unread; a stale hint on a page that is not
//	    resident costs one read of its state.
//
// The transition primitive (P8, P10..P13) racing with eviction, page-in,
// relocation and a snapshot is modeled in models/pagecache.pml, with the
// old alloc/free orderings (the two defects this primitive fixed) as seeded
// bugs that SPIN finds; the cleaner, epochs and crash recovery (C1, C2, P3,
// P9) are modeled in models/cleaner.pml. models/verify.sh checks both in
// CI. Eviction racing updates is also explored on the real code in
// pagecache_lfsched_test.go.
//
// Page id allocation and reclamation happen only on structure changes
// (splits, merges, drops), never on plain reads or writes.
//
// With a log (Open), every transition appends one record: a delta for a
// leaf write, a full image for structure changes and for the update that
// would break P4, images of the pages it publishes and frees of
// the pages it unlinks. The cache keeps the memory of resident nodes under a capacity by
// evicting nodes (evict.go); an evicted page is read back by gathering its
// image and deltas from the log concurrently. Recovery (recovery.go) rebuilds
// the table from a snapshot of locations plus the log tail, reading no page.
package pagecache
