package pagecache

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/invariants"
	"github.com/sledgo/sled/internal/lfdelay"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/slab"
)

// FragmentsPerImage bounds the delta fragments of a page: the update that
// would make the FragmentsPerImage-th fragment logs a full image instead
// (consolidation), so a page is rebuilt from one image and at most
// FragmentsPerImage-1 deltas (P4). Before that bound, a page with a log
// also consolidates as soon as its log bytes would exceed twice its
// current image (fragmentsOutweigh): small writes to a large leaf log
// ~their own size, a page that only grows logs each entry once, and a
// page-in never reads more than twice the page's bytes.
const FragmentsPerImage = 16

// Log record kinds of page records: a list of codec sections applied
// atomically, plain or zstd-compressed.
const (
	KindPages     log.Kind = 1
	KindPagesZstd log.Kind = 2
)

// Loc is where one fragment of a page lives: the LSN of its record and the
// bytes of the log it accounts for (its share of the record's frame and
// body on disk, blobs included), which the log cleaner sums per segment.
type Loc struct {
	LSN  log.LSN
	Size uint32
}

const (
	chunkBits = 13
	chunkLen  = 1 << chunkBits
	topLen    = 1 << 17 // 2^30 page ids
)

// ErrFreed is returned by Load for a page id that is not allocated.
var ErrFreed = errors.New("pagecache: page is not allocated")

// Page is the immutable state of one page.
type Page struct {
	// Node is the materialized node, or nil when the page is not resident
	// (evicted, or not read since Open); Load makes it resident.
	Node *node.Node
	// Locs are the log positions of the page's last full image and of
	// the deltas logged since, in order. Empty without a log.
	Locs []Loc
	// Frags counts the delta fragments since the last full image.
	Frags int

	freed   bool    // a tombstone: the page is free
	freeLSN log.LSN // where the free was logged; for a reserved page, that of the free it replaced (P15)

	// prior is the state this one replaced, while the transition that
	// installed it may still be rolled back; nil once it is decided
	// (P13). The only mutable field of a Page.
	prior atomic.Pointer[Page]
}

// residentPage is a page state allocated together with its node: one
// allocation of the size class the two would take apart (176 bytes on
// 64-bit platforms: 64 + 112), so that a Load's read of the state and of
// its node touch adjacent memory instead of two cache misses apart.
type residentPage struct {
	Page
	node node.Node
}

// withNode returns a fresh page state with node n (a copy of *n, which is
// immutable, N4), or without a node when n is nil.
func withNode(n *node.Node) *Page {
	if n == nil {
		return &Page{}
	}
	r := &residentPage{node: *n}
	r.Node = &r.node
	return &r.Page
}

// Stats counts page-table activity.
type Stats struct {
	Allocated     int64 // pages currently allocated
	Highest       uint64
	Updates       int64
	Images        int64 // full images written (new pages, structure changes, consolidation)
	Fragments     int64 // partial updates (deltas) written
	FreedTotal    int64
	MemBytes      int64 // memory of resident pages: nodes, Pages, locations (exact, in size classes)
	TableBytes    int64 // memory of the states of pages not resident (Pages, locations)
	SlotBytes     int64 // bytes of node slots outside the Go heap in use (installed or retired, M2)
	SlotMapped    int64 // bytes the slot arena holds from the system: mapped and not given back (slab S4)
	SlotWaiting   int64 // charge of the retired slots waiting for their epoch (M2); not in MemBytes
	Hits          int64 // Loads that found the page resident
	Misses        int64 // Loads that read the page from the log
	Evictions     int64
	LoggedBytes   int64 // bytes of page records appended to the log (compressed)
	RawBytes      int64 // the same records before compression
	CanceledBytes int64 // bytes of reservations aborted after a lost CAS
	Relocated     int64 // pages rewritten by the log cleaner
	PageInReads   int64 // log reads made by page-ins (Misses of them)
	Consolidated  int64 // pages rewritten as one image because page-ins kept needing several reads (C3)
}

type slot struct {
	p   atomic.Pointer[Page]
	ref atomic.Uint32 // CLOCK reference count, 0..2
	// meta packs, in the padding after ref (a slot stays 16 bytes):
	// residentBit, the resident hint (R1); the low bits of the stamp of
	// the state the last scattered page-in read (stampBits); and the
	// count of scattered page-ins of that same state, i.e. with no write
	// between them (C3).
	meta atomic.Uint32
}

const (
	residentBit   = 1 << 31
	stampShift    = 16
	stampBits     = 1<<15 - 1 // 15 bits of the stamp: a write in between is missed 1 time in 32768
	scatteredMask = 1<<16 - 1 // the count, and with the stamp bits the whole C3 state
	c3Mask        = stampBits<<stampShift | scatteredMask
)

type chunk [chunkLen]slot

// countScattered counts a scattered page-in (C3) of the state stamped
// stamp and returns how many page-ins of that state it has counted: a
// page-in of another state (the page was written since) starts again at 1.
// The count saturates well below the resident bit.
func (s *slot) countScattered(stamp log.LSN) uint32 {
	st := uint32(stamp) & stampBits
	for {
		m := s.meta.Load()
		n := uint32(1)
		if (m>>stampShift)&stampBits == st {
			n = min(m&scatteredMask+1, scatteredMask)
		}
		nm := m&^c3Mask | st<<stampShift | n
		if s.meta.CompareAndSwap(m, nm) { // C3: only the C3 bits change
			return n
		}
	}
}

// resetScattered forgets the scattered page-ins, keeping the resident hint.
func (s *slot) resetScattered() { s.meta.And(^uint32(c3Mask)) }

// Options configures a log-backed cache.
type Options struct {
	Log                *log.Log
	CacheCapacityBytes int64 // bound on resident node memory; 0 = unbounded
	Compression        bool  // zstd-compress page records
	CompressionLevel   int   // zstd level (1..22); 0 = default
	// FlatImages writes every page image in the flat form (the node's own
	// bytes: a page-in copies and checks them) instead of the varint form
	// (decoded entry by entry, 5-10% smaller with small values). Without
	// it, an image is flat when its entries are large enough that the flat
	// form costs under about 3% more bytes (flatEntryBytes). Both forms are
	// always read.
	FlatImages bool
	// SlotChargePercent is the share, in percent, of a node slot's bytes
	// (a node buffer outside the Go heap, internal/slab) that
	// counts against CacheCapacityBytes. The capacity is in Go heap bytes
	// (NodeBudget scales it for the collector's overshoot) while a slot
	// costs the process its size once: SlotChargePercent() gives the
	// matching share. 0 means 100.
	SlotChargePercent int64
}

// Cache is the page table.
type Cache struct {
	top  [topLen]atomic.Pointer[chunk]
	next atomic.Uint64 // highest id handed out so far

	log      *log.Log
	capacity int64
	flat     bool          // Options.FlatImages
	zenc     *zstd.Encoder // nil without compression
	zdec     *zstd.Decoder

	ep      epochs
	retired atomic.Pointer[idNode] // freed ids waiting for their epoch
	free    atomic.Pointer[idNode] // ids safe to reuse

	// slab holds the nodes that page-ins build; a replaced state's slot
	// waits in slots for its epoch (P17).
	slab      *slab.Arena
	closed    atomic.Bool // set by Close before it waits for readers
	slots     retiredSlots
	waitBytes atomic.Int64 // the charge of the slots waiting in slots (M2)
	slotPct   int64        // Options.SlotChargePercent

	allocated atomic.Int64
	updates   atomic.Int64
	images    atomic.Int64
	fragments atomic.Int64
	freed     atomic.Int64
	memBytes  atomic.Int64
	// tableBytes is the memory of the states of pages that are not
	// resident (their Page and locations, the page table's cost per page):
	// it counts against the capacity too, leaving nodes the rest (M1).
	tableBytes atomic.Int64
	hits       atomic.Int64
	misses     atomic.Int64
	evictions  atomic.Int64
	logged     atomic.Int64
	raw        atomic.Int64
	canceled   atomic.Int64
	relocated  atomic.Int64
	// pageInReads: log reads made by page-ins (one per location), beside
	// misses (page-ins): their ratio is what a cold read costs.
	pageInReads  atomic.Int64
	consolidated atomic.Int64

	// consolidate carries ids of pages whose page-ins keep needing
	// several reads, to the owner's consolidator (Consolidate, C3). A send
	// never blocks: a full queue drops the id, which the page's next
	// scattered page-in offers again.
	consolidate chan Scattered

	evict     chan struct{} // wakes the evictor
	stop      chan struct{}
	done      sync.WaitGroup
	hands     [evictShards]paddedHand // CLOCK hands, one per shard of ids
	closeOnce sync.Once
	bufs      sync.Pool // encode buffers
	readBufs  sync.Pool // page-in read buffers (materialize)
}

type paddedHand struct {
	n atomic.Uint64
	_ [56]byte
}

type idNode struct {
	id    node.PageID
	epoch uint64
	next  *idNode
}

// New returns an empty, memory-only page table (no log, no eviction).
func New() *Cache { return &Cache{} }

// Open returns an empty page table that will be backed by a log: restore
// pages (RestorePage, Replay, FinishRecovery), then Attach the log before
// use. Close stops the evictor.
func Open(opts Options) *Cache {
	c := &Cache{capacity: opts.CacheCapacityBytes, flat: opts.FlatImages, consolidate: make(chan Scattered, consolidateQueue)}
	c.slotPct = opts.SlotChargePercent
	if c.slotPct <= 0 || c.slotPct > 100 {
		c.slotPct = 100
	}
	c.slab = slab.New()
	if c.capacity > 0 {
		c.slab.SetKeep(max(c.capacity/keepShare, minKeep)) // M2, slab S4
	}
	c.zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxRawRecordBytes))
	if opts.Compression {
		level := zstd.SpeedDefault
		if opts.CompressionLevel > 0 {
			level = zstd.EncoderLevelFromZstd(opts.CompressionLevel)
		}
		c.zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1))
	}
	if opts.Log != nil {
		c.Attach(opts.Log)
	}
	return c
}

// Attach sets the log and starts eviction.
func (c *Cache) Attach(l *log.Log) {
	c.log = l
	if c.capacity > 0 {
		c.evict = make(chan struct{}, 1)
		c.stop = make(chan struct{})
		c.done.Add(1)
		go c.evictor()
	}
}

// Close stops background work and unmaps the node slots (S3, P17): Loads
// that start afterwards fail with ErrClosed, and it returns once every
// operation pinned before it has unpinned, so nothing can read a slot
// when they go. Nodes the caller holds past Close must not be read.
func (c *Cache) Close() {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		if c.stop != nil {
			close(c.stop)
			c.done.Wait()
		}
		if c.slab != nil {
			c.WaitReaders(nil)
			c.slab.Release()
		}
	})
}

// ErrClosed is returned by a Load that starts after Close.
var ErrClosed = errors.New("pagecache: closed")

// Pin pins the current epoch: page ids freed after this call are not reused
// until the guard is unpinned. Every tree operation runs pinned.
func (c *Cache) Pin() Guard { return c.ep.pin() }

func (c *Cache) slot(id node.PageID, grow bool) *slot {
	hi := uint64(id) >> chunkBits
	if hi >= topLen || id == 0 {
		return nil
	}
	ch := c.top[hi].Load()
	if ch == nil {
		if !grow {
			return nil
		}
		fresh := new(chunk)
		lfdelay.Point("pagecache.chunk")
		// P2: a chunk is installed once and never replaced.
		if c.top[hi].CompareAndSwap(nil, fresh) {
			ch = fresh
		} else {
			ch = c.top[hi].Load()
		}
	}
	return &ch[uint64(id)&(chunkLen-1)]
}

func freedErr(id node.PageID) error { return fmt.Errorf("%w: %d", ErrFreed, id) }

// Load returns the current state of page id, reading it from the log first
// when it is not resident.
func (c *Cache) Load(id node.PageID) (*Page, error) {
	s := c.slot(id, false)
	if s == nil {
		return nil, freedErr(id)
	}
	if c.closed.Load() {
		return nil, ErrClosed // the slots may be unmapped (Close)
	}
	p := s.p.Load()
	if p != nil && !p.freed && p.Node != nil { // resident: the hot path
		if s.ref.Load() < 2 {
			s.ref.Add(1)
		}
		c.hits.Add(1)
		return p, nil
	}
	return c.loadSlow(id, s)
}

// Resident returns page id's current state when it is resident, else nil,
// without paging it in or counting a hit: for a reader that only wants a
// node it already saw (tree I14). The caller is pinned.
func (c *Cache) Resident(id node.PageID) *Page {
	s := c.slot(id, false)
	if s == nil || c.closed.Load() {
		return nil
	}
	if p := s.p.Load(); p != nil && !p.freed && p.Node != nil {
		return p
	}
	return nil
}

// loadSlow is Load of a page that was free, staged or not resident when
// Load looked: it pages in, retrying when the state changes meanwhile.
func (c *Cache) loadSlow(id node.PageID, s *slot) (*Page, error) {
	for {
		p := s.p.Load()
		if p == nil || p.freed {
			return stagedOrFreed(id, p)
		}
		if p.Node != nil {
			if s.ref.Load() < 2 {
				s.ref.Add(1)
			}
			c.hits.Add(1)
			return p, nil
		}
		if len(p.Locs) == 0 {
			return nil, freedErr(id) // reserved by Allocate(nil), not yet set
		}
		n, err := c.materialize(id, p.Locs)
		if err != nil {
			return nil, err
		}
		c.misses.Add(1)
		c.pageInReads.Add(int64(len(p.Locs)))
		np := withNode(n)
		np.Locs, np.Frags = p.Locs, p.Frags
		// P6: a page-in installs the node its fragments describe, only
		// over the exact non-resident state it read them from.
		if c.swap(s, p, np) {
			// One sweep of grace, so the caller can use the page before the
			// hand comes back; a page read once stays below re-read pages.
			s.ref.Store(1)
			if len(p.Locs) >= consolidateReads && c.consolidate != nil && s.countScattered(p.stamp()) >= consolidateAfter {
				select {
				case c.consolidate <- Scattered{id, p.stamp()}: // C3
				default:
				}
			}
			c.payForMemory()
			return np, nil
		}
		if sl := n.Slot(); sl != nil {
			c.slab.Put(sl) // P17: never installed, so never seen
		}
	}
}

// stagedOrFreed is Load of a page whose state p is free (or nil). P16: a
// free staged by a transition not yet decided reads as the state it
// replaces, when resident (a frozen victim, or a page a drop walked), so
// nobody waits for another thread's transition to decide; a CAS from it
// loses to the tombstone.
func stagedOrFreed(id node.PageID, p *Page) (*Page, error) {
	if p != nil {
		if pr := p.prior.Load(); pr != nil && pr.Node != nil {
			return pr, nil
		}
	}
	return nil, freedErr(id)
}

// materialize rebuilds a page from its image and deltas in the log, reading
// the fragments one after the other in the caller. (A goroutine per
// fragment cost more than it saved: each grew a fresh stack through the
// read path, 13% of a load's CPU with the data 2x the cache, while reads
// the OS serves from its page cache take a few microseconds; a page whose
// page-ins keep gathering fragments is rewritten as one image, C3.)
func (c *Cache) materialize(id node.PageID, locs []Loc) (*node.Node, error) {
	if c.log == nil || len(locs) == 0 {
		return nil, fmt.Errorf("%w: page %d has no node and no log locations", codec.ErrCorrupt, id)
	}
	secs := make([]codec.Section, len(locs))
	errs := make([]error, len(locs))
	// The records are read into pooled buffers, returned once the node is
	// built: decoding copies what the node keeps (an image into the node's
	// own buffer, a fragment's keys and values by applying it), so no
	// section outlives this call.
	bufs := make([][]byte, len(locs))
	defer func() {
		for _, b := range bufs {
			if b != nil {
				c.putReadBuf(b)
			}
		}
	}()
	read := func(i int) {
		// One pread per fragment: a fragment's share is about its whole
		// record unless the record held other pages' sections too.
		hint := max(int(locs[i].Size), readHintBytes)
		kind, body, used, err := c.log.ReadInto(locs[i].LSN, hint, c.getReadBuf(hint+readHeaderSlack))
		bufs[i] = used
		if errors.Is(err, log.ErrInvalidLSN) {
			err = fmt.Errorf("%w: %w", codec.ErrCorrupt, err) // the table names a record the log lacks
		}
		if err == nil {
			body, err = c.Decode(kind, body)
		}
		if err != nil {
			errs[i] = err
			return
		}
		var a node.Allocator
		if i == 0 {
			a = c.pageInArena() // the image: the node a page-in keeps (P17)
		}
		sec, ok, err := codec.FindPageIn(a, body, id)
		switch {
		case err != nil:
			errs[i] = err
		case !ok:
			errs[i] = fmt.Errorf("%w: page %d not in the record at %d", codec.ErrCorrupt, id, locs[i].LSN)
		default:
			secs[i] = sec
		}
	}
	for i := range locs {
		read(i)
	}
	// P17: the image's slot is the page-in's alone until the node is
	// installed; it goes back at once unless the node built keeps it.
	image := secs[0].Node
	drop := func(keep *node.Node) {
		if sl := image.Slot(); sl != nil && !keep.SharesSlot(image) {
			c.slab.Put(sl)
		}
	}
	if err := errors.Join(errs...); err != nil {
		drop(nil)
		return nil, fmt.Errorf("pagecache: reading page %d: %w", id, err)
	}
	if secs[0].Kind != codec.SecImage {
		drop(nil)
		return nil, fmt.Errorf("%w: page %d starts with section kind %d, not an image", codec.ErrCorrupt, id, secs[0].Kind)
	}
	n, err := applyFragments(image, secs[1:])
	drop(n)
	if err != nil {
		return nil, fmt.Errorf("%w: page %d: %v", codec.ErrCorrupt, id, err)
	}
	return n, nil
}

// applyFragments applies the delta sections of a page, in log order, to its
// image n. Each run of entry writes between structural deltas (a split, a
// posted child) is one merge of its writes (the last write of a key wins)
// and one node built, not one per fragment. Every delta is checked against
// the node it applies to first (node.Delta.Check): a fragment read back
// from disk that does not fit its page is corruption, not a node that
// breaks the tree's invariants.
func applyFragments(n *node.Node, secs []codec.Section) (*node.Node, error) {
	start := 0
	flush := func(end int) {
		switch end - start {
		case 0:
		case 1:
			n = secs[start].Delta.Apply(n)
		default:
			n = n.WithOps(mergeDeltas(secs[start:end]))
		}
	}
	for i := range secs {
		d := &secs[i].Delta
		if secs[i].Kind != codec.SecDelta {
			return nil, fmt.Errorf("fragment %d is a section of kind %d, not a delta", i, secs[i].Kind)
		}
		if err := d.Check(n); err != nil {
			return nil, fmt.Errorf("fragment %d: %v", i, err)
		}
		if d.Structural() {
			flush(i)
			n, start = d.Apply(n), i+1
		}
	}
	flush(len(secs))
	return n, nil
}

// readHintBytes is the least a page-in reads in its first pread: small
// records come whole with their header.
const readHintBytes = 4 << 10

// readHeaderSlack covers a record's header beside its body hint, so that a
// pooled buffer sized for the hint takes the whole first read.
const readHeaderSlack = 64

// maxPooledReadBuf: larger read buffers (rare: nodes are bounded, records
// holding many pages are not) go to the collector instead of the pool.
const maxPooledReadBuf = 64 << 10

func (c *Cache) getReadBuf(n int) []byte {
	if b, ok := c.readBufs.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:0]
	}
	return make([]byte, 0, max(n, 2*readHintBytes))
}

// putReadBuf returns a read buffer to the pool. With the invariants tag it
// is poisoned first, so that a node or section still aliasing it reads
// garbage (and the tests fail) instead of data that happens to be right.
func (c *Cache) putReadBuf(b []byte) {
	if cap(b) > maxPooledReadBuf {
		return
	}
	if invariants.Enabled {
		b = b[:cap(b)]
		for i := range b {
			b[i] = 0xA5
		}
	}
	c.readBufs.Put(&b)
}

// mergeDeltas returns the writes of the delta sections (none structural),
// in order, as one list of DeltaSet and DeltaDel ops with strictly
// increasing keys, keeping the last write of each key: applying it with
// WithOps equals applying the deltas one by one.
func mergeDeltas(secs []codec.Section) []node.Delta {
	var ops []node.Delta
	for _, s := range secs {
		if s.Delta.Kind == node.DeltaBatch {
			ops = append(ops, s.Delta.Ops...)
		} else {
			ops = append(ops, s.Delta)
		}
	}
	slices.SortStableFunc(ops, func(a, b node.Delta) int { return bytes.Compare(a.Key, b.Key) })
	out := ops[:0]
	for i := range ops {
		if i+1 < len(ops) && bytes.Equal(ops[i].Key, ops[i+1].Key) {
			continue // a later write of the same key follows
		}
		out = append(out, ops[i])
	}
	return out
}

// Allocate reserves a fresh page id and returns it. With n != nil the page
// holds n; with n == nil it is only reserved and Init sets its node. A
// reserved page reads as its node (or absent) but is not logged and not
// reachable: it is published, and logged, by the transition that names it
// (Update with Alloc, CreatePage), or given back with Release.
func (c *Cache) Allocate(n *node.Node) (node.PageID, error) {
	id := c.popFree()
	if id == 0 {
		id = node.PageID(c.next.Add(1))
		if uint64(id)>>chunkBits >= topLen {
			return 0, errors.New("pagecache: page table is full")
		}
	}
	s := c.slot(id, true)
	// P3: the id is ours alone (fresh, or popped from the free stack), so
	// the CAS from the state we read cannot lose.
	old := s.p.Load()
	// The reserved state keeps the stamp of the free it replaces (P15).
	np := withNode(n)
	np.freeLSN = old.stamp()
	if old.allocated() || !c.swap(s, old, np) {
		return 0, fmt.Errorf("pagecache: page %d handed out while allocated (P3)", id)
	}
	s.resetScattered() // a reused id: its last page's page-ins are not this one's (C3)
	if n != nil {
		c.images.Add(1)
	}
	return id, nil
}

// Init sets the node of a page reserved by Allocate(nil).
func (c *Cache) Init(id node.PageID, n *node.Node) {
	s := c.slot(id, true)
	old := s.p.Load()
	// P3: unpublished, so ours alone.
	ok := old != nil && old.Node == nil && len(old.Locs) == 0
	if ok {
		np := withNode(n)
		np.freeLSN = old.freeLSN
		ok = c.swap(s, old, np)
	}
	if !ok && invariants.Enabled {
		invariants.Failf("P3", "Init of page %d that is not a fresh reservation", id)
	}
	c.images.Add(1)
}

// Release gives back a page reserved by Allocate that was never published:
// no page names it and it was never logged. Its id is reused after an
// epoch (P3).
func (c *Cache) Release(id node.PageID) {
	s := c.slot(id, false)
	if s == nil {
		return
	}
	old := s.p.Load()
	if !old.allocated() || len(old.Locs) > 0 {
		if invariants.Enabled {
			invariants.Failf("P3", "Release of page %d that is free or logged", id)
		}
		return
	}
	if c.freeUnlogged(id, s, old) {
		c.retire(id)
	}
}

// freeUnlogged frees page id from state old without a log record (a page
// never logged, or a memory-only table), by the transition primitive. P15:
// unlogged, so the tombstone keeps old's stamp.
func (c *Cache) freeUnlogged(id node.PageID, s *slot, old *Page) bool {
	ok, _ := c.apply(&transition{unlogged: true, changes: []change{{id: id, s: s, old: old, new: &Page{freed: true, freeLSN: old.stamp()}}}})
	return ok
}

// Extra is another page that an Update publishes or frees in the same step.
type Extra struct {
	alloc, free node.PageID
}

// Alloc names a page reserved with Allocate and set with Init that the
// update publishes: its image goes into the same log record (P7).
func Alloc(id node.PageID) Extra { return Extra{alloc: id} }

// Freed names a page that the update unlinks: it is freed in the same log
// record, and its id reused after an epoch (P3, P7).
func Freed(id node.PageID) Extra { return Extra{free: id} }

func (c *Cache) getBuf(n int) []byte {
	if b, ok := c.bufs.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:0]
	}
	return make([]byte, 0, n)
}

func (c *Cache) putBuf(b []byte) {
	if cap(b) <= 1<<20 {
		c.bufs.Put(&b)
	}
}

// Update replaces old, the resident state of page id that the caller loaded,
// by n, which is old's node with delta d applied, together with the extra
// pages it publishes or frees, as one transition (apply, P11). It returns
// the new state, or ok == false when another writer changed the page (or a
// page it frees) first (P1); then nothing changed.
//
// With a log, the record is reserved before the CAS and completed after it
// (or aborted when the CAS loses), so per page the log order is the CAS
// order (P8).
func (c *Cache) Update(id node.PageID, old *Page, n *node.Node, d node.Delta, extra ...Extra) (*Page, bool, error) {
	s := c.slot(id, false)
	if s == nil {
		return nil, false, freedErr(id)
	}
	image := d.Kind == node.DeltaImage || old.Frags+1 >= FragmentsPerImage
	var deltaSec codec.Section
	if !image {
		deltaSec = codec.Section{Kind: codec.SecDelta, Page: id, Delta: d}
		image = c.fragmentsOutweigh(old, &deltaSec, n)
	}
	p := withNode(n)
	main := change{id: id, s: s, old: old, new: p, delta: !image}
	if image {
		main.sec = c.imageSection(id, n)
	} else {
		p.Frags = old.Frags + 1
		main.sec = deltaSec
	}
	var buf [3]change // a split publishes at most two pages; no heap for the common case
	t := transition{changes: buf[:0]}
	var freed []node.PageID
	for _, e := range extra {
		switch {
		case e.alloc != 0:
			as := c.slot(e.alloc, false)
			var ap *Page
			if as != nil {
				ap = as.p.Load()
			}
			if !ap.allocated() || ap.Node == nil || len(ap.Locs) > 0 {
				return nil, false, errUnpublished(e.alloc)
			}
			t.changes = append(t.changes, change{id: e.alloc, s: as, old: ap, new: withNode(ap.Node),
				sec: c.imageSection(e.alloc, ap.Node)})
		case e.free != 0:
			fs := c.slot(e.free, false)
			var fp *Page
			if fs != nil {
				fp = fs.p.Load()
			}
			if fp != nil && fp.prior.Load() != nil {
				// Being freed by a transition not yet decided: wait for it
				// (it never blocks once staged) and let the caller retry.
				lfdelay.Yield("pagecache.staged-free")
				return nil, false, nil
			}
			if !fp.allocated() {
				return nil, false, nil // already free: the caller's view is stale (P5)
			}
			t.changes = append(t.changes, change{id: e.free, s: fs, old: fp, new: &Page{freed: true},
				sec: codec.Section{Kind: codec.SecFree, Page: e.free}})
			freed = append(freed, e.free)
		}
	}
	t.changes = append(t.changes, main)
	ok, err := c.apply(&t)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		for _, ch := range t.changes[:len(t.changes)-1] {
			if cur := ch.s.p.Load(); cur != nil && cur.prior.Load() != nil {
				// Lost to a transition not yet decided: let its goroutine
				// run before the caller retries from the state it leaves.
				lfdelay.Yield("pagecache.staged")
				break
			}
		}
		return nil, false, nil
	}
	for _, id := range freed {
		c.freed.Add(1)
		c.retire(id)
	}
	s.ref.Store(1)
	c.updates.Add(1)
	c.images.Add(int64(len(t.changes) - len(freed) - 1))
	if image {
		c.images.Add(1)
	} else {
		c.fragments.Add(1)
	}
	return p, true, nil
}

// fragmentsOutweigh reports whether logging sec as one more fragment of old
// would make the page's log bytes (its image, its fragments and sec) exceed
// twice what an image of n, the new state, would take (P4): then more of
// them would be dead than live, and the update logs an image instead. A
// page that only grows (appends, an append split's left half) keeps all its
// fragments live and logs no image until the count bound; one whose writes
// replace each other or whose range shrank (a split) logs one once the
// waste reaches its size. Disk shares are compressed bytes, so the
// estimates of sec and of n's image are scaled by the compression ratio
// seen so far.
func (c *Cache) fragmentsOutweigh(old *Page, sec *codec.Section, n *node.Node) bool {
	if len(old.Locs) == 0 {
		return false // memory only, or never logged: the count bound alone
	}
	frag, image := c.diskEstimate(int64(codec.SectionSize(sec))), c.diskEstimate(int64(n.ImageBytes()))
	return old.logBytes()+frag > 2*image
}

// diskEstimate estimates the log bytes that n bytes of page records take
// once compressed, by the compression ratio seen so far.
func (c *Cache) diskEstimate(n int64) int64 {
	if logged, raw := c.logged.Load(), c.raw.Load(); raw > 0 && logged < raw {
		return int64(float64(n) * float64(logged) / float64(raw))
	}
	return n
}

// logBytes is what p's image and fragments take in the log (their shares).
func (p *Page) logBytes() int64 {
	var b int64
	for _, l := range p.Locs {
		b += int64(l.Size)
	}
	return b
}

func (p *Page) lastLoc() log.LSN {
	if len(p.Locs) == 0 {
		return 0
	}
	return p.Locs[len(p.Locs)-1].LSN
}

// imageSection is the section that logs n as page id's full image, in the
// form the cache writes (Options.FlatImages).
func (c *Cache) imageSection(id node.PageID, n *node.Node) codec.Section {
	flat := c.flat || n.ImageBytes() >= flatEntryBytes*n.Len()
	if flat {
		n = n.Flat() // the flat form is the folded buffer: fold once, not per Bytes call
	}
	return codec.Section{Kind: codec.SecImage, Page: id, Node: n, Varint: !flat}
}

// flatEntryBytes is the average image bytes per entry from which an image
// is written flat even when Options.FlatImages is off. The flat form spends
// about 10 bytes per entry more than the varint form (an 8-byte table slot
// and a 4-byte key length against two 1-2 byte varints), so from ~320 bytes
// per entry it costs under 3% more log, while its page-in is one copy and
// a check instead of a parse into a zeroed buffer: with 1 KiB values that
// parse was 40% of a cold read's CPU (BenchmarkImageForms).
const flatEntryBytes = 320

// record is an encoded page record.
type record struct {
	kind log.Kind
	raw  []byte // the sections (pooled buffer)
	body []byte // what goes to the log: raw, or raw compressed
}

// frameBytes is the log's per-record frame header, counted in shares.
const frameBytes = 17

// share returns the disk bytes that section sec accounts for: its part of
// the raw sections, scaled to the body written, plus the frame header for
// the first section.
func (r *record) share(sec codec.Section) uint32 { return shareOf(sec, len(r.body), len(r.raw)) }

func shareOf(sec codec.Section, bodyLen, rawLen int) uint32 {
	secRaw := codec.SectionsSize([]codec.Section{sec})
	return uint32(int64(secRaw)*int64(bodyLen+frameBytes)/int64(max(rawLen, 1))) + 1
}

// maxRawRecordBytes bounds a page record decoded from zstd: the largest
// node (a value of up to 64 MiB and its neighbours within the node size
// limit), a batch delta of one leaf, or the frees of a dropped tree fit
// far below it. A damaged or crafted frame that declares more is refused
// instead of allocated.
const maxRawRecordBytes = 256 << 20

// compressMinBytes: smaller records are not worth a zstd frame.
const compressMinBytes = 256

func (c *Cache) encode(secs []codec.Section) *record {
	raw := codec.AppendSections(c.getBuf(codec.SectionsSize(secs)), secs)
	r := &record{kind: KindPages, raw: raw, body: raw}
	if c.zenc != nil && len(raw) >= compressMinBytes {
		if z := c.zenc.EncodeAll(raw, make([]byte, 0, len(raw)/2)); len(z) < len(raw) {
			r.kind, r.body = KindPagesZstd, z
		}
	}
	return r
}

// Decode returns the sections of a page record as read from the log.
func (c *Cache) Decode(kind log.Kind, body []byte) ([]byte, error) {
	switch kind {
	case KindPages:
		return body, nil
	case KindPagesZstd:
		raw, err := c.zdec.DecodeAll(body, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %v", codec.ErrCorrupt, err)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("%w: log record of unknown kind %d", codec.ErrCorrupt, kind)
}

// Free frees page id without logging (memory-only tables, or pages never
// logged) and returns its last state. Every later Load reads it as absent
// and every later Update of it fails. The id is reused once all current
// pins are gone (P3).
func (c *Cache) Free(id node.PageID) *Page {
	s := c.slot(id, false)
	if s == nil {
		return nil
	}
	for {
		old := s.p.Load()
		if !old.allocated() {
			return nil // P5: freeing a free page changes nothing
		}
		if c.freeUnlogged(id, s, old) {
			c.freed.Add(1)
			c.retire(id)
			if old.Node == nil && len(old.Locs) == 0 {
				return nil // only reserved: it had no state
			}
			return old
		}
	}
}

// Ref is a page and the exact state of it that a caller read.
type Ref struct {
	ID   node.PageID
	Page *Page
}

// FreeTogether frees every page of refs, each from the state given or a
// later one that still accepts (nil: only the state given; e.g. a state
// that differs only by residency or relocation), and logs the frees with
// the meta sections in one record (one transition, P11): after a crash
// either all are free or none. It reports ok == false, having changed
// nothing, when a page changed in a way still rejects; the caller reads
// again and retries.
func (c *Cache) FreeTogether(refs []Ref, still func(old, cur *Page) bool, meta ...codec.Section) (bool, error) {
	t := transition{meta: meta, changes: make([]change, 0, len(refs))}
	for _, r := range refs {
		s := c.slot(r.ID, false)
		if s == nil || !r.Page.allocated() {
			return false, nil
		}
		t.changes = append(t.changes, change{id: r.ID, s: s, old: r.Page, new: &Page{freed: true},
			sec: codec.Section{Kind: codec.SecFree, Page: r.ID}, still: still})
	}
	if len(t.changes) == 0 {
		if _, err := c.LogMeta(meta...); err != nil {
			return false, err
		}
		return true, nil
	}
	ok, err := c.apply(&t)
	if err != nil || !ok {
		return false, err
	}
	for _, r := range refs {
		c.freed.Add(1)
		c.retire(r.ID)
	}
	return true, nil
}

// CreatePage allocates a page holding n and logs its image together with
// the meta sections that meta returns for the new id (one transition, one
// record), e.g. the creation of a tree rooted there.
func (c *Cache) CreatePage(n *node.Node, meta func(id node.PageID) []codec.Section) (node.PageID, error) {
	id, err := c.Allocate(n)
	if err != nil {
		return 0, err
	}
	s := c.slot(id, false)
	old := s.p.Load()
	t := transition{
		changes: []change{{id: id, s: s, old: old, new: withNode(n), sec: c.imageSection(id, n)}},
		meta:    meta(id),
	}
	// The page is unpublished: the CAS cannot lose (P3).
	if ok, err := c.apply(&t); err != nil || !ok {
		c.Release(id)
		if err == nil {
			err = fmt.Errorf("pagecache: creating page %d lost its CAS (P3)", id)
		}
		return 0, err
	}
	return id, nil
}

// LogMeta appends a record of meta sections only.
func (c *Cache) LogMeta(meta ...codec.Section) (log.LSN, error) {
	if c.log == nil {
		return 0, nil
	}
	rec := c.encode(meta)
	defer c.putBuf(rec.raw)
	return c.log.Append(rec.kind, rec.body)
}

func (c *Cache) retire(id node.PageID) {
	e := c.ep.global.Load()
	push(&c.retired, &idNode{id: id, epoch: e})
	c.ep.tryAdvance()
}

func push(head *atomic.Pointer[idNode], n *idNode) {
	for {
		h := head.Load()
		n.next = h
		lfdelay.Point("pagecache.push")
		if head.CompareAndSwap(h, n) {
			return
		}
	}
}

// popFree returns a reusable id or 0. Go's GC makes the Treiber stack safe
// from ABA: a popped idNode is never reused while a racer still holds it.
func (c *Cache) popFree() node.PageID {
	for {
		h := c.free.Load()
		if h == nil {
			if !c.reclaim() {
				return 0
			}
			continue
		}
		lfdelay.Point("pagecache.pop")
		if c.free.CompareAndSwap(h, h.next) {
			return h.id
		}
	}
}

// reclaim moves retired ids whose epoch has passed to the free stack and
// reports whether it moved any.
func (c *Cache) reclaim() bool {
	if c.retired.Load() == nil {
		return false
	}
	g := c.ep.tryAdvance()
	list := c.retired.Swap(nil)
	moved := false
	for n := list; n != nil; {
		next := n.next
		if g >= n.epoch+2 {
			push(&c.free, n)
			moved = true
		} else {
			push(&c.retired, n)
		}
		n = next
	}
	return moved
}

// nodeTarget is what resident pages may hold (M1): the capacity less what
// the page table holds for the pages that are not resident, but never less
// than minNodeShare of the capacity, so that a table larger than the
// capacity leaves the cache working instead of evicting everything.
func (c *Cache) nodeTarget() int64 {
	return max(c.capacity-c.tableBytes.Load(), c.capacity/minNodeShare)
}

// minNodeShare: nodes keep at least 1/minNodeShare of the capacity.
const minNodeShare = 4

func (c *Cache) addMem(d int64) {
	m := c.memBytes.Add(d)
	if d > 0 && c.evict != nil {
		if t := c.nodeTarget(); m <= t-t/10 {
			return
		}
		select {
		case c.evict <- struct{}{}:
		default:
		}
	}
}

// payForMemory is called by every operation that made pages resident (a
// transition, a page-in) once it is done, outside any transition: while the
// resident memory is over the capacity, the caller evicts (M1). Writers and
// readers pay for what they add, synchronously, so the cache stays at its
// budget however fast pages come in; the background evictor keeps it a
// little under, so that most operations pay nothing. Pages whose last
// fragment is still only in a log buffer cannot be evicted (P6): when they
// keep the cache over its capacity, the caller waits for the log to write
// what it holds now, and evicts again.
func (c *Cache) payForMemory() {
	if c.evict == nil || c.memBytes.Load() <= c.nodeTarget() {
		return
	}
	waited := false
	for range payRounds {
		evicted, unwritten := c.evictSome(payBatch)
		if c.memBytes.Load() <= c.nodeTarget() {
			return
		}
		if evicted == 0 && unwritten == 0 {
			if waited {
				return
			}
			continue
		}
		if unwritten > 0 && !waited {
			// The caller holds no reservation (it is done): waiting
			// cannot deadlock on its own record.
			if c.log.WaitWritten(c.log.Tail()) != nil {
				return // the log failed or closed: the next write reports it
			}
			waited = true
		}
	}
}

// Stats returns counters.
func (c *Cache) Stats() Stats {
	slotIn, slotMapped, _ := c.SlotStats()
	return Stats{
		Allocated:     c.allocated.Load(),
		Highest:       c.next.Load(),
		Updates:       c.updates.Load(),
		Images:        c.images.Load(),
		Fragments:     c.fragments.Load(),
		FreedTotal:    c.freed.Load(),
		MemBytes:      c.memBytes.Load(),
		TableBytes:    c.tableBytes.Load(),
		SlotBytes:     slotIn,
		SlotMapped:    slotMapped,
		SlotWaiting:   c.waitBytes.Load(),
		Hits:          c.hits.Load(),
		Misses:        c.misses.Load(),
		Evictions:     c.evictions.Load(),
		LoggedBytes:   c.logged.Load(),
		RawBytes:      c.raw.Load(),
		CanceledBytes: c.canceled.Load(),
		Relocated:     c.relocated.Load(),
		PageInReads:   c.pageInReads.Load(),
		Consolidated:  c.consolidated.Load(),
	}
}

func isFreed(err error) bool { return errors.Is(err, ErrFreed) }
