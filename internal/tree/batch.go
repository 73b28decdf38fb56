package tree

import (
	"fmt"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
)

// BatchOp is one write of a batch: set Key to Val, or delete Key.
type BatchOp struct {
	Key, Val []byte
	Delete   bool
}

// ApplySorted applies ops, whose keys are strictly increasing, leaf by
// leaf: the ops that land in one leaf are installed by one CAS and logged as
// one fragment (a node.DeltaBatch), instead of a CAS and a record each. A
// leaf takes at most as many ops as keep it within twice its size limits,
// so that one split brings it back within them (I1, I5 as for Modify).
//
// The caller holds the locks of the batch's keys (the database's key
// stripes) and makes the batch atomic to readers itself (pre-images, see
// the root package's T3); writers of other keys of the same leaves run
// concurrently, so a lost CAS re-reads the leaf and applies its ops again.
// report is called once per op, in order, with the value the op replaced
// (valid only during the call: it may alias a node slot, I13).
func (t *Tree) ApplySorted(ops []BatchOp, report func(i int, old []byte, found bool)) error {
	g := t.pc.Pin()
	defer g.Unpin()
	var path []frame
	restarts := 0
	for i := 0; i < len(ops); {
		if restarts > maxRestarts {
			return fmt.Errorf("%w: batch at %q does not converge", ErrCorrupt, ops[i].Key)
		}
		id, p, err := t.descend(ops[i].Key, 0, false, &path, true)
		if err == errRestart {
			restarts++
			continue
		}
		if err != nil {
			return err
		}
		n := p.Node
		room := max(2*t.cfg.MaxLeafEntries-n.Len(), 1)
		roomBytes := 2*t.cfg.MaxNodeBytes - n.MemBytes()
		if t.appendable(id, n, ops[i].Key) {
			// Appends: fill n up to its limits, then start new right
			// siblings (appendSplit) instead of splitting n in half.
			if t.full(n, 1, len(ops[i].Key)+len(ops[i].Val)) {
				j, err := t.applyAppend(id, p, ops, i, path, report)
				if err != nil {
					return err
				}
				if j == i {
					restarts++ // lost the CAS
				}
				i = j
				continue
			}
			room = t.cfg.MaxLeafEntries - n.Len()
			roomBytes = t.cfg.MaxNodeBytes - n.MemBytes() - appendEntryOverhead*room
		}
		deltas := make([]node.Delta, 0, min(room, len(ops)-i))
		olds := make([][]byte, 0, cap(deltas))
		founds := make([]bool, 0, cap(deltas))
		j := i
		for ; j < len(ops) && len(deltas) < room && !n.BeyondHi(ops[j].Key); j++ {
			op := ops[j]
			if j > i && roomBytes < len(op.Key)+len(op.Val) {
				break
			}
			roomBytes -= len(op.Key) + len(op.Val)
			old, found := n.Get(op.Key)
			olds, founds = append(olds, old), append(founds, found)
			switch {
			case !op.Delete:
				deltas = append(deltas, node.Delta{Kind: node.DeltaSet, Key: op.Key, Val: op.Val})
			case found:
				deltas = append(deltas, node.Delta{Kind: node.DeltaDel, Key: op.Key})
			}
		}
		if len(deltas) > 0 {
			d := node.Delta{Kind: node.DeltaBatch, Ops: deltas}
			if len(deltas) == 1 {
				d = deltas[0]
			}
			// I1, I5: every key is inside n's range (descend, BeyondHi),
			// the ops are sorted, and the CAS is from the state we read.
			np, ok, err := t.update(id, p, n.WithOps(deltas), d)
			if err != nil {
				return err
			}
			if !ok {
				restarts++
				continue
			}
			if err := t.afterWrite(id, np, path); err != nil {
				return err
			}
		}
		for k := i; k < j; k++ {
			report(k, olds[k-i], founds[k-i])
		}
		i = j
	}
	return nil
}

// applyAppend installs ops[i:] (keys above every key of the full leaf n in
// page id, appendable) as new right siblings: the sets among the first of
// them that fit one leaf go to a fresh page split off n (appendSplit), the
// deletes among them remove nothing. It returns the index of the first op
// it did not take, i itself when the CAS lost.
func (t *Tree) applyAppend(id node.PageID, p *pagecache.Page, ops []BatchOp, i int, path []frame, report func(int, []byte, bool)) (int, error) {
	var keys, vals [][]byte
	j, bytes := i, 0
	for ; j < len(ops) && len(keys) < t.cfg.MaxLeafEntries; j++ {
		op := ops[j]
		if op.Delete {
			continue
		}
		if len(keys) > 0 && bytes+len(op.Key)+len(op.Val)+appendEntryOverhead > t.cfg.MaxNodeBytes*3/4 {
			break
		}
		keys, vals = append(keys, op.Key), append(vals, op.Val)
		bytes += len(op.Key) + len(op.Val) + appendEntryOverhead
	}
	var postErr error
	if len(keys) > 0 { // else only deletes of absent keys: nothing to write
		ok, err := t.appendSplit(id, p, keys, vals, path)
		if !ok {
			return i, err
		}
		postErr = err
	}
	for k := i; k < j; k++ {
		report(k, nil, false)
	}
	return j, postErr
}
