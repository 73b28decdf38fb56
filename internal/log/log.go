package log

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sledgo/sled/vfs"
)

// Log is a segmented write-ahead log. All its methods are safe for
// concurrent use.
type Log struct {
	fs       vfs.FS
	dir      string
	segSize  LSN
	bufSize  int
	nbuf     int
	blobMin  int // bodies larger than this go to blob files
	flushDur time.Duration
	minEnd   LSN // Options.MinEnd
	onSeg    func(seg uint64)
	readOnly bool // Options.ReadOnly

	// cur is the buffer reservations go to. It is replaced (by the sealer
	// only, L3) after the buffer it points to is sealed.
	cur atomic.Pointer[buffer]

	// ring holds the memory of the buffers; see install.
	ring struct {
		sync.Mutex
		cond *sync.Cond // broadcast on install, on free and on error
		busy []bool     // slot i holds a buffer not yet written; protected by mu
		data [][]byte   // slot memory, slices of mem; immutable after Open
		// mem holds every slot, outside the Go heap when mapped
		// (allocBuffer); immutable after Open, freed by Close.
		mem    []byte
		mapped bool
	}
	// slots[i] is the buffer most recently installed in slot i; the I/O
	// goroutine finds the next buffer to write through it.
	slots []atomic.Pointer[buffer]

	written atomic.Uint64 // Written(); stored by the I/O goroutine only (L5)
	stable  atomic.Uint64 // Stable(); stored by the I/O goroutine only (L6)
	wanted  atomic.Uint64 // largest LSN a Flush waits for to be stable
	wantedW atomic.Uint64 // largest LSN a Read waits for to be written
	// syncWaiters counts Flush calls waiting for a sync, and syncArrivals
	// every Flush call that had to wait, ever; the I/O goroutine reads
	// them to gather waiters into one sync (gather).
	syncWaiters  atomic.Int64
	syncArrivals atomic.Int64

	stableN  notifier // broadcast when stable advances, on error and on Close
	writtenN notifier // broadcast when written advances, on error and on Close

	kick   chan struct{} // wakes the I/O goroutine; capacity 1
	stopIO chan struct{}
	ioDone chan struct{}
	tickQ  chan struct{}
	tickOK chan struct{}

	// State of the I/O goroutine, touched by it only (and by Open and
	// Close before it starts and after it ends).
	io struct {
		gen  uint64   // generation of the next buffer to write
		seg  uint64   // segment of file
		file vfs.File // file of segment seg; nil until created
		// zeroed is the offset in file up to which this process wrote
		// records or zeros (zeroAhead); 0 after a segment switch or Open.
		zeroed int64
		// peak is the number of Flush calls waiting when the last sync
		// ended, arrivals the count of syncArrivals when it started, and
		// lastSync how long it took: gather waits until peak calls have
		// arrived since the last sync started, at most lastSync.
		peak     int64
		arrivals int64
		lastSync time.Duration
	}

	files struct {
		sync.RWMutex
		m map[uint64]vfs.File // open segment files; protected by mu
	}

	failure   atomic.Pointer[error] // the sticky error (L10)
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	stats struct {
		reserved, written, syncs, records, canceled, blobs, blobBytes,
		sealed, segments, ringWaits, removed atomic.Int64
	}
}

// Stats are counters of a Log since Open.
type Stats struct {
	BytesReserved   int64 // log space handed to records, frames included
	BytesWritten    int64 // bytes written to segment files
	Syncs           int64 // syncs of segment files
	Records         int64 // caller records completed (blobs included)
	Canceled        int64 // aborted reservations
	Blobs           int64 // records written out of line
	BlobBytes       int64 // body bytes written to blob files
	BuffersSealed   int64 // buffers sealed (full, flushed or at a segment end)
	SegmentsCreated int64 // segment files created
	SegmentsRemoved int64 // segment files removed by RemoveSegment
	RingWaits       int64 // times an installer waited for a free buffer
}

// Stats returns the counters of l.
func (l *Log) Stats() Stats {
	s := &l.stats
	return Stats{
		BytesReserved:   s.reserved.Load(),
		BytesWritten:    s.written.Load(),
		Syncs:           s.syncs.Load(),
		Records:         s.records.Load(),
		Canceled:        s.canceled.Load(),
		Blobs:           s.blobs.Load(),
		BlobBytes:       s.blobBytes.Load(),
		BuffersSealed:   s.sealed.Load(),
		SegmentsCreated: s.segments.Load(),
		SegmentsRemoved: s.removed.Load(),
		RingWaits:       s.ringWaits.Load(),
	}
}

// Open opens (creating if needed) the log in opts.Dir, recovers it and
// replays it from replayFrom; see the package documentation for the rules.
// replayFrom must be 0 or an LSN the log returned as the boundary of a
// record (Tail, CompletePrefix, Written, Stable, or a record's LSN).
// replay may be nil; the body it is given is valid only during the call. An
// error from replay aborts Open and is returned.
func Open(opts Options, replayFrom LSN, replay func(lsn LSN, kind Kind, body []byte) error) (*Log, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	l := &Log{
		fs:       opts.FS,
		dir:      opts.Dir,
		segSize:  LSN(opts.SegmentSizeBytes),
		bufSize:  opts.BufferSizeBytes,
		nbuf:     opts.Buffers,
		blobMin:  opts.BufferSizeBytes/2 - headerSize,
		flushDur: opts.FlushEvery,
		minEnd:   opts.MinEnd,
		readOnly: opts.ReadOnly,
		onSeg:    opts.OnNewSegment,
		kick:     make(chan struct{}, 1),
		stopIO:   make(chan struct{}),
		ioDone:   make(chan struct{}),
	}
	l.ring.cond = sync.NewCond(&l.ring.Mutex)
	l.files.m = make(map[uint64]vfs.File)
	l.ring.busy = make([]bool, l.nbuf)
	l.ring.data = make([][]byte, l.nbuf)
	l.ring.mem, l.ring.mapped = allocBuffer(l.nbuf * l.bufSize)
	for i := range l.ring.data {
		l.ring.data[i] = l.ring.mem[i*l.bufSize : (i+1)*l.bufSize : (i+1)*l.bufSize]
	}
	l.slots = make([]atomic.Pointer[buffer], l.nbuf)

	if l.readOnly {
		if _, err := l.fs.Stat(l.dir); err != nil {
			return nil, fmt.Errorf("log: %w", err)
		}
	} else if err := l.ensureDir(); err != nil {
		return nil, err
	}
	end, err := l.recover(replayFrom, replay)
	if err != nil {
		l.closeFiles()
		freeBuffer(l.ring.mem, l.ring.mapped) // no goroutine started yet
		return nil, err
	}
	l.written.Store(uint64(end))
	l.stable.Store(uint64(end))
	l.ring.busy[0] = true
	b := l.newBuffer(0, end)
	l.slots[0].Store(b)
	l.cur.Store(b)
	go l.ioLoop()
	if l.flushDur > 0 {
		l.tickQ = make(chan struct{})
		l.tickOK = make(chan struct{})
		go l.tickLoop()
	}
	return l, nil
}

// ensureDir creates the log directory and makes its entry durable.
func (l *Log) ensureDir() error {
	if _, err := l.fs.Stat(l.dir); err == nil {
		return nil
	}
	// Collect the missing ancestors, topmost last.
	var missing []string
	for d := l.dir; ; {
		if _, err := l.fs.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		parent := parentDir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if err := l.fs.MkdirAll(l.dir, 0o755); err != nil {
		return fmt.Errorf("log: create directory: %w", err)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := l.fs.SyncDir(parentDir(missing[i])); err != nil {
			return fmt.Errorf("log: sync directory: %w", err)
		}
	}
	return nil
}

// parentDir returns the directory holding path (by slash or backslash).
func parentDir(path string) string {
	i := len(path) - 1
	for i > 0 && (path[i] == '/' || path[i] == '\\') {
		i--
	}
	for i >= 0 && path[i] != '/' && path[i] != '\\' {
		i--
	}
	switch {
	case i < 0:
		return "."
	case i == 0:
		return path[:1]
	}
	return path[:i]
}

// err returns the sticky error, or nil.
func (l *Log) err() error {
	if p := l.failure.Load(); p != nil {
		return *p
	}
	return nil
}

// Err returns the sticky error: non-nil after any failed write or sync of
// the log. From then on every method that writes fails with it.
func (l *Log) Err() error { return l.err() }

// fail records err as the sticky error (the first one wins) and wakes
// every waiter (L10).
func (l *Log) fail(err error) {
	e := fmt.Errorf("log: failed, refusing writes: %w", err)
	l.failure.CompareAndSwap(nil, &e) // L10: the first error stays

	l.wakeAll()
}

// wakeAll wakes every waiter so that it rechecks the error and closed.
func (l *Log) wakeAll() {
	l.ring.Lock()
	l.ring.cond.Broadcast()
	l.ring.Unlock()
	l.stableN.broadcast()
	l.writtenN.broadcast()
}

// writable returns the error a writing method must return, or nil.
func (l *Log) writable() error {
	if l.closed.Load() {
		return ErrClosed
	}
	if l.readOnly {
		return ErrReadOnly
	}
	return l.err()
}

// Stable returns the end of the durable contiguous prefix of the log.
func (l *Log) Stable() LSN { return LSN(l.stable.Load()) }

// Written returns the end of the contiguous prefix of the log written to
// segment files (maybe not synced). Read of an LSN below it does no waiting.
func (l *Log) Written() LSN { return LSN(l.written.Load()) }

// Tail returns the LSN the next reservation gets (unless a segment ends
// first). Every record reserved before the call is below it; it never
// decreases.
func (l *Log) Tail() LSN {
	b := l.cur.Load()
	t := b.base + LSN(b.hdr.Load()&offsetMask)
	// While a buffer that ends a segment is sealed but its successor not
	// yet installed, it may already be written up to the next segment.
	return max(t, LSN(l.written.Load()))
}

// CompletePrefix returns an LSN below which every reservation has been
// completed or aborted. It is always a record boundary and may lag behind
// the true value.
func (l *Log) CompletePrefix() LSN {
	b := l.cur.Load()
	h := b.hdr.Load()
	w := LSN(l.written.Load())
	if h&sealedBit == 0 && h&writersMask == 0 && w >= b.base {
		// Every buffer before b is written, and b has no writer in it.
		return b.base + LSN(h&offsetMask)
	}
	return w
}

// tickLoop flushes every flushDur.
func (l *Log) tickLoop() {
	defer close(l.tickOK)
	t := time.NewTicker(l.flushDur)
	defer t.Stop()
	for {
		select {
		case <-l.tickQ:
			return
		case <-t.C:
		}
		if l.err() == nil && l.Tail() > l.Stable() {
			_ = l.flush() // a failure is sticky; callers see it
		}
	}
}

// Close flushes the log, stops its goroutines and closes its files. It
// returns the flush error, if any. Close is idempotent; the caller must not
// reserve concurrently with it, nor hold an incomplete reservation.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		if l.tickQ != nil {
			close(l.tickQ)
			<-l.tickOK
		}
		l.closeErr = l.flush()
		l.closed.Store(true)
		close(l.stopIO)
		<-l.ioDone
		l.closeFiles()
		l.wakeAll() // a stray waiter sees closed
		if l.closeErr == nil {
			// The flush waited for every reservation to complete and
			// wrote every buffer, and reservers now fail (closed, the
			// current buffer sealed): nothing touches the ring again.
			// After a failed flush a reservation may still be open, so
			// the ring is left to the system then.
			freeBuffer(l.ring.mem, l.ring.mapped)
		}
	})
	return l.closeErr
}

func (l *Log) closeFiles() {
	l.files.Lock()
	defer l.files.Unlock()
	for seg, f := range l.files.m {
		_ = f.Close() // read or already synced: nothing to lose
		delete(l.files.m, seg)
	}
}

// notifier wakes every goroutine waiting for a condition to change: a
// waiter takes the channel, rechecks its condition, and waits for the
// channel to close; broadcast closes it. Unlike a sync.Cond, the waiters
// that one broadcast wakes do not then queue for a mutex one after the
// other, which with many flushers delayed the last by tens of
// microseconds after every sync.
type notifier struct {
	mu sync.Mutex    // guards ch
	ch chan struct{} // closed by the next broadcast; nil when nobody waits
}

// wait returns the channel the next broadcast closes. Check the condition
// after calling it, then wait on it.
func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) broadcast() {
	n.mu.Lock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
	n.mu.Unlock()
}
