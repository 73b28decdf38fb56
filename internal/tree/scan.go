package tree

import (
	"bytes"

	"github.com/sledgo/sled/internal/node"
)

// Scan reads a tree's entries in key order from a start key, one leaf
// snapshot at a time, for a forward iterator. Every entry it returns lives
// in memory that outlives the pinned operations that read it (I13):
//   - a leaf on the Go heap is an immutable snapshot, read in place;
//   - a leaf in an arena slot (read from disk) is read in runs: each run
//     is a heap copy of the next entries (node.Node.CopyRun: one memmove
//     into one allocation of their size), made under a pin, so a scan
//     copies about what it returns, not whole leaves; a leaf with an
//     overlay is copied as its base (one memmove, the overlay shared). A run after the first reads the leaf only
//     while its page still holds the node the scan first read (I14);
//     otherwise the scan seeks past the last key it returned.
//
// It moves to the next leaf by the right link when that still leads to the
// leaf starting where the finished one ended, else by a seek (rightOf).
// A Scan is not safe for concurrent use.
type Scan struct {
	t *Tree

	n     *node.Node  // the current leaf; nil before the first and after the last
	id    node.PageID // its page
	i     int         // index in n of the next entry to return
	count int         // n.Len()
	hi    []byte      // n.Hi(), on the heap (nil: the last leaf)
	right node.PageID // n.Next()

	// What the scan reads entries i .. i+left-1 from: rd through cur (n
	// itself, on the heap), or, when rd is nil, entries k... of a run of
	// a slot leaf (node.RunEntry).
	rd   *node.Node
	cur  node.Cursor
	data []byte
	offs []uint32 // reused from run to run: only data is handed out
	k    int
	left int
	run  int // entries the next run copies

	// Where the next seek starts: the start key (incl as given) before
	// the first entry, then the last key returned (incl false).
	last []byte
	incl bool
	done bool
}

const (
	firstScanRun = 32
	maxScanRun   = 1024
)

// Start makes s a scan of t's keys >= from (> from when !inclusive); a
// Scan is a value, so that an iterator embeds it without an allocation.
func (s *Scan) Start(t *Tree, from []byte, inclusive bool) {
	*s = Scan{t: t, last: from, incl: inclusive}
}

// Next returns the next entry, or ok == false at the end or on err.
func (s *Scan) Next() (key, val []byte, ok bool, err error) {
	for !s.done {
		if s.n != nil && s.i < s.count {
			if s.left == 0 {
				if err := s.resume(); err != nil {
					return nil, nil, false, s.fail(err)
				}
				continue
			}
			if s.rd != nil {
				key, val = s.rd.Step(&s.cur)
			} else {
				key, val = node.RunEntry(s.data, s.offs, s.k)
				s.k++
			}
			s.i++
			s.left--
			s.last, s.incl = key, false
			return key, val, true, nil
		}
		if s.n != nil {
			moved, err := s.rightLeaf()
			if err != nil {
				return nil, nil, false, s.fail(err)
			}
			if moved {
				continue
			}
		}
		if err := s.seek(); err != nil {
			return nil, nil, false, s.fail(err)
		}
	}
	return nil, nil, false, nil
}

// Close drops the scan's leaf and copies; Next returns nothing after it.
func (s *Scan) Close() {
	s.done = true
	s.n, s.rd, s.hi, s.data, s.offs = nil, nil, nil, nil, nil
}

func (s *Scan) fail(err error) error {
	s.Close()
	return err
}

// seek makes current the leaf holding the first key after the last one
// returned (from the start key before any), or ends the scan.
func (s *Scan) seek() error {
	g := s.t.pc.Pin()
	defer g.Unpin()
	n, id, i, ok, err := s.t.seekPinned(s.last, s.incl)
	if err != nil {
		return err
	}
	if !ok {
		s.Close()
		return nil
	}
	s.enter(n, id, i)
	return nil
}

// rightLeaf makes current the right sibling of the finished leaf, when
// its page is still a leaf starting where the finished one ended (I3, I4)
// and holds entries; moved == false: seek instead.
func (s *Scan) rightLeaf() (moved bool, err error) {
	g := s.t.pc.Pin()
	defer g.Unpin()
	r, ok, err := s.t.rightOf(s.hi, s.right)
	if err != nil || !ok || r.Len() == 0 {
		return false, err
	}
	s.enter(r, s.right, 0)
	return true, nil
}

// resume copies the next run of the current slot leaf while its page
// still holds it (I14), else seeks past the last key returned.
func (s *Scan) resume() error {
	if s.copyIfSame() {
		return nil
	}
	s.n = nil
	return s.seek()
}

// copyIfSame copies the next run of the current slot leaf if its page
// still holds the node the scan read there (resident: a leaf paged in
// again is another node, so it is not read in for the check).
func (s *Scan) copyIfSame() bool {
	g := s.t.pc.Pin()
	defer g.Unpin()
	if p := s.t.pc.Resident(s.id); p == nil || p.Node != s.n {
		return false
	}
	s.copyRun() // I14: the page holds the node read first, so its slot too
	return true
}

// enter makes entry i of leaf n, on page id, the next to return; the
// caller is pinned and n is the node it read there.
func (s *Scan) enter(n *node.Node, id node.PageID, i int) {
	s.n, s.id, s.i, s.count, s.right = n, id, i, n.Len(), n.Next()
	if n.Slot() == nil {
		s.hi = n.Hi()
		s.rd, s.cur, s.left, s.data = n, n.CursorAt(i), s.count-i, nil
		return
	}
	s.hi = nil
	if h := n.Hi(); h != nil {
		s.hi = bytes.Clone(h)
	}
	s.copyRun()
}

// copyRun copies the entries of slot leaf s.n from s.i, as many as the
// run allows, to the heap; the caller is pinned (I13).
func (s *Scan) copyRun() {
	switch {
	case s.run == 0:
		s.run = firstScanRun
	case s.run < maxScanRun:
		s.run *= 2
	}
	if s.n.Overlaid() {
		// A copy of the base, sharing the overlay (on the heap already):
		// one memmove, where copying part of the merged view walks it.
		s.rd, s.data = s.n.OnHeap(), nil
		s.cur, s.left = s.rd.CursorAt(s.i), s.count-s.i
		return
	}
	end := min(s.count, s.i+s.run)
	s.left = end - s.i
	s.rd, s.k = nil, 0
	s.data, s.offs = s.n.CopyRun(s.i, end, s.offs)
}
