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
//	P4. After FragmentsPerImage fragments the next Update logs a full image
//	    (consolidation), so a page is rebuilt from at most that many
//	    fragments plus one image.
//	P5. Freed pages read as absent (Load returns ErrFreed), never as another
//	    page's content, until they are allocated again.
//
// Page id allocation and reclamation happen only on structure changes
// (splits, merges, drops), never on plain reads or writes.
package pagecache
