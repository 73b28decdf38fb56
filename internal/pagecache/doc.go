// Package pagecache maps page ids to page states and keeps the invariants
// that let the tree above it be lock-free.
//
// A page's state is an immutable *Page: the materialized node plus the
// bookkeeping of the fragments (deltas) that produced it since its last full
// image. Readers Load the state with one atomic load; writers build a new
// state and install it with one compare-and-swap (Update). The page table is
// a grow-only two-level array, so a lookup never takes a lock.
//
// Invariants kept by this package (cited as P1..P5 at the sites that keep them):
//
//	P1. A page's state changes only by a successful CAS from the exact state
//	    the writer read (Update); a failed CAS changes nothing, so every
//	    installed state was derived from its predecessor.
//	P2. The page table only grows: the chunk holding a page id, once
//	    installed by CAS, is never replaced or freed.
//	P3. A page id is handed out by Allocate to exactly one caller, and is
//	    given out again only after Free and after every operation that was
//	    pinned when it was freed has unpinned (epoch reclamation, epoch.go).
//	    Go's garbage collector already keeps node memory alive for slow
//	    readers; epochs protect page ids, which are names, from reuse.
//	P4. A page has at most FragmentsPerImage-1 delta fragments after its
//	    last full image: the update that would make the FragmentsPerImage-th
//	    logs a full image instead (consolidation).
//	P5. Freed pages read as absent (Load returns ErrFreed), never as another
//	    page's content, until they are allocated again; freeing a free page
//	    changes nothing (an id is never handed out twice).
//	P6. A page-in or an eviction changes only whether the node is resident,
//	    by a CAS from the exact state it judged; the locations stay. A page is
//	    evicted only when all its fragments are written to the log file.
//	P7. A page published by an update (Alloc) is logged in the same record
//	    as the update that links it, and a page unlinked by an update (Freed)
//	    is freed in that record: after a crash there is neither a link to an
//	    unlogged page nor an allocated page that nothing links to.
//	P8. An update reserves its log record before its CAS and completes it
//	    after (aborts it when the CAS loses). A later CAS on the same page
//	    starts from this state, so it reserves later: per page, log order is
//	    CAS order, and replay rebuilds every page exactly.
//	P9. Replay is idempotent: a record at LSN x changes a page only when the
//	    page's state does not already reflect x or later.
//	P10. Every in-memory effect of a record (a published page, a freed page)
//	    is visible before the record's reservation completes, and undone
//	    before it aborts. A snapshot takes its replay start below every
//	    incomplete reservation, so it sees the effects of every record below
//	    its start and replay covers the rest.
//
// Page id allocation and reclamation happen only on structure changes
// (splits, merges, drops), never on plain reads or writes.
//
// With a log (Open), every update appends its fragment: a delta for a leaf
// write, a full image for structure changes and every FragmentsPerImage-th
// update. The cache keeps the memory of resident nodes under a capacity by
// evicting nodes (evict.go); an evicted page is read back by gathering its
// image and deltas from the log concurrently. Recovery (recovery.go) rebuilds
// the table from a snapshot of locations plus the log tail, reading no page.
package pagecache
