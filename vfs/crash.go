package vfs

import (
	"maps"
	"math/rand/v2"
	"slices"
)

// CrashMode selects what CrashClone does with state that is not durable.
type CrashMode int

const (
	// DropAllUnsynced loses everything that is not durable: files keep
	// exactly their contents as of their last Sync and directories exactly
	// their entries as of their last SyncDir.
	DropAllUnsynced CrashMode = iota

	// KeepRandomUnsyncedPrefix models a crash in the middle of write-back:
	// for every file, a random prefix of the writes and truncations made
	// since its last Sync is applied, in order, on top of its durable
	// contents, and the last applied write may be torn (only a random
	// prefix of its bytes is applied). Likewise, for every directory a
	// random prefix of the entry changes made since its last SyncDir is
	// applied on top of its durable entries. The choices are a
	// deterministic function of CrashOptions.Seed and the MemFS state.
	KeepRandomUnsyncedPrefix
)

// String returns the name of the mode.
func (m CrashMode) String() string {
	switch m {
	case DropAllUnsynced:
		return "DropAllUnsynced"
	case KeepRandomUnsyncedPrefix:
		return "KeepRandomUnsyncedPrefix"
	default:
		return "CrashMode(?)"
	}
}

// CrashOptions configures CrashClone.
type CrashOptions struct {
	Mode CrashMode
	// Seed seeds the random choices of KeepRandomUnsyncedPrefix.
	Seed int64
}

// crashSeedStream is the fixed second PCG seed word of CrashClone.
const crashSeedStream = 0x9e3779b97f4a7c15

// CrashClone returns a new, independent MemFS holding the state that a power
// loss at this instant could leave behind, as selected by opts. The receiver
// is not modified. In the clone every file and directory entry is durable,
// no files are open and no locks are held.
//
// Directories are visited depth-first in name order, so for a given seed the
// result depends only on the state of the receiver.
func (fs *MemFS) CrashClone(opts CrashOptions) *MemFS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	c := &crasher{seen: make(map[*memNode]*memNode)}
	if opts.Mode == KeepRandomUnsyncedPrefix {
		c.rng = rand.New(rand.NewPCG(uint64(opts.Seed), crashSeedStream))
	}
	return &MemFS{
		root:  c.dir(fs.root),
		locks: make(map[*memNode]int),
	}
}

// crasher builds a crash clone. MemFS.mu of the source must be held.
type crasher struct {
	rng  *rand.Rand // nil for DropAllUnsynced
	seen map[*memNode]*memNode
}

// prefix returns how many of n unsynced operations survive.
func (c *crasher) prefix(n int) int {
	if c.rng == nil || n == 0 {
		return 0
	}
	return c.rng.IntN(n + 1)
}

func (c *crasher) dir(d *memNode) *memNode {
	entries := maps.Clone(d.durableChildren)
	for _, op := range d.dirOps[:c.prefix(len(d.dirOps))] {
		op.apply(entries)
	}
	nd := &memNode{
		isDir:    true,
		mode:     d.mode,
		modTime:  d.modTime,
		children: make(map[string]*memNode, len(entries)),
	}
	c.seen[d] = nd
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		child := entries[name]
		if prev, ok := c.seen[child]; ok {
			// Only reachable through unsynced cross-directory renames.
			// A file may then appear under both names (a hard link);
			// a directory must have a single parent, so the later
			// entry is dropped.
			if !child.isDir {
				nd.children[name] = prev
			}
			continue
		}
		if child.isDir {
			nd.children[name] = c.dir(child)
		} else {
			nd.children[name] = c.file(child)
		}
	}
	nd.durableChildren = maps.Clone(nd.children)
	return nd
}

func (c *crasher) file(f *memNode) *memNode {
	f.mu.RLock()
	defer f.mu.RUnlock()
	data := slices.Clone(f.durable)
	k := c.prefix(len(f.pending))
	for i, op := range f.pending[:k] {
		if i == k-1 && !op.trunc && c.rng.IntN(2) == 0 {
			// Tear the last write: only a strict prefix of its bytes
			// reaches the medium (possibly none, leaving the size as is).
			cut := c.rng.IntN(len(op.data))
			if cut == 0 {
				break
			}
			op.data = op.data[:cut]
		}
		data = op.apply(data)
	}
	nf := &memNode{
		mode:    f.mode,
		modTime: f.modTime,
		data:    data,
		durable: slices.Clone(data),
	}
	c.seen[f] = nf
	return nf
}
