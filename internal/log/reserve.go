package log

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/sledgo/sled/internal/lfdelay"
)

// The header word of a buffer packs, from the low bits up:
//
//	offset  (32 bits)  bytes reserved in the buffer so far
//	writers (31 bits)  reservations (and the sealer) not yet left
//	sealed  (1 bit)    no more reservations; offset is final
const (
	offsetMask  = 1<<32 - 1
	oneWriter   = 1 << 32
	writersMask = (1<<31 - 1) << 32
	sealedBit   = 1 << 63
)

// buffer is one in-memory I/O buffer: a window [base, base+cap) of the log
// that reservations fill. A buffer struct is used for one generation only
// (the memory behind data is reused), so a stale pointer to it can never
// reserve in a later generation: its header stays sealed forever.
type buffer struct {
	hdr atomic.Uint64

	gen      uint64 // position in the sequence of buffers; immutable
	slot     int    // index in the ring; immutable
	base     LSN    // LSN of data[0]; immutable
	cap      uint64 // reservations must end at or before this offset; immutable
	segLimit LSN    // last LSN a non-segment-end record may end at; immutable
	data     []byte // len bufSize; immutable slice header

	// segEnd is set by the sealer before it leaves: a segment-end record
	// follows the last reservation.
	segEnd bool
	ready  atomic.Bool // handed to the I/O goroutine (L4)
}

// newBuffer returns the buffer of generation gen starting at base.
func (l *Log) newBuffer(gen uint64, base LSN) *buffer {
	segStart := base - base%l.segSize
	segLimit := segStart + l.segSize - headerSize // room for the segment-end record
	slot := int(gen % uint64(l.nbuf))
	c := uint64(l.bufSize - headerSize)
	if base > segLimit {
		c = 0 // cannot happen (L1); keeps the arithmetic safe
	} else {
		c = min(c, uint64(segLimit-base))
	}
	return &buffer{
		gen: gen, slot: slot, base: base, cap: c, segLimit: segLimit,
		data: l.ring.data[slot],
	}
}

// Reservation is space reserved in the log for one record. Exactly one of
// Complete or Abort must be called on it, soon: the buffer it lives in is
// not written (and Flush does not return) until then.
type Reservation struct {
	l    *Log
	b    *buffer
	off  uint64 // offset of the frame in b.data
	lsn  LSN
	size int  // body size asked for
	blob bool // the body goes to a blob file; the slot holds the pointer
	done bool
}

// LSN returns the LSN of the reserved record.
func (r *Reservation) LSN() LSN { return r.lsn }

// Reserve reserves space for a record with a body of size bytes. The
// caller must Complete or Abort the reservation, and must not wait on the
// log (Flush, Read of a later record) before doing so.
func (l *Log) Reserve(size int) (*Reservation, error) {
	if size < 0 || size > MaxBodySize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, size)
	}
	if err := l.writable(); err != nil {
		return nil, err
	}
	inline, blob := size, false
	if size > l.blobMin {
		inline, blob = blobPointerSize, true
	}
	b, off, err := l.reserve(recordSize(inline))
	if err != nil {
		return nil, err
	}
	return &Reservation{l: l, b: b, off: off, lsn: b.base + LSN(off), size: size, blob: blob}, nil
}

// reserve reserves n bytes in the current buffer, sealing it and moving on
// when they do not fit.
func (l *Log) reserve(n int) (*buffer, uint64, error) {
	rec := uint64(n)
	for {
		if err := l.writable(); err != nil {
			return nil, 0, err
		}
		b := l.cur.Load()
		h := b.hdr.Load()
		if h&sealedBit != 0 {
			if err := l.waitInstalled(b); err != nil {
				return nil, 0, err
			}
			continue
		}
		off := h & offsetMask
		if off+rec <= b.cap {
			// L2: one CAS raises the offset past the record and counts
			// the writer; it fails if anyone reserved or sealed since
			// the load.
			lfdelay.Point("log.reserve")
			if b.hdr.CompareAndSwap(h, h+rec+oneWriter) {
				l.stats.reserved.Add(int64(rec))
				return b, off, nil
			}
			continue
		}
		// L3: the record does not fit: seal, and join as a writer so
		// that the buffer is not handed off before the sealer has
		// written the segment-end record (if any).
		lfdelay.Point("log.seal")
		if b.hdr.CompareAndSwap(h, (h|sealedBit)+oneWriter) {
			// L1: a buffer never spans segments; if the record would
			// cross the segment's limit, the segment ends here.
			l.sealed(b, off, b.base+LSN(off+rec) > b.segLimit)
		}
	}
}

// sealed finishes the seal of b, won by the caller at offset off: it writes
// the segment-end record if segEnd, leaves b and installs the next buffer.
func (l *Log) sealed(b *buffer, off uint64, segEnd bool) {
	l.stats.sealed.Add(1)
	next := b.base + LSN(off)
	if segEnd {
		// off <= cap <= bufSize-headerSize and base+off <= segLimit, so the
		// record fits both the buffer and the segment.
		putRecord(b.data[off:off+headerSize], KindSegmentEnd, next, nil)
		b.segEnd = true
		next = next - next%l.segSize + l.segSize
	}
	l.leave(b)
	l.install(b.gen+1, next)
}

// install makes the buffer of generation gen, starting at base, current.
// It waits while the ring slot is still in use by generation gen-nbuf
// (L9). Only the sealer of generation gen-1 calls it (L3).
func (l *Log) install(gen uint64, base LSN) {
	slot := int(gen % uint64(l.nbuf))
	l.ring.Lock()
	defer l.ring.Unlock()
	if l.ring.busy[slot] {
		l.stats.ringWaits.Add(1)
	}
	for l.ring.busy[slot] && l.err() == nil && !l.closed.Load() { // L9

		l.ring.cond.Wait()
	}
	if l.ring.busy[slot] {
		return // failed or closed: cur stays sealed, reservers fail
	}
	l.installLocked(gen, base)
}

// installLocked installs the buffer of generation gen into its free slot.
// l.ring must be held.
func (l *Log) installLocked(gen uint64, base LSN) {
	slot := int(gen % uint64(l.nbuf))
	l.ring.busy[slot] = true
	nb := l.newBuffer(gen, base)
	lfdelay.Point("log.install")
	l.slots[slot].Store(nb)
	l.cur.Store(nb)
	l.ring.cond.Broadcast()
}

// waitInstalled waits until b, which is sealed, is no longer current.
func (l *Log) waitInstalled(b *buffer) error {
	for range 64 {
		if l.cur.Load() != b {
			return nil
		}
		runtime.Gosched()
	}
	l.ring.Lock()
	defer l.ring.Unlock()
	for l.cur.Load() == b {
		if err := l.writable(); err != nil {
			return err
		}
		l.ring.cond.Wait()
	}
	return nil
}

// leave ends a writer's stay in b. L4: the writer whose decrement leaves b
// sealed with no writers hands it to the I/O goroutine; since the sealed
// bit is set by one CAS and never cleared, and the count reaches zero after
// it exactly once, exactly one goroutine does.
func (l *Log) leave(b *buffer) {
	lfdelay.Point("log.leave")
	h := b.hdr.Add(^uint64(oneWriter - 1)) // minus one writer
	if h&sealedBit != 0 && h&writersMask == 0 {
		b.ready.Store(true)
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// Complete writes the record into the reserved slot and releases it.
// len(body) must be the size given to Reserve and kind in 1..MaxUserKind;
// anything else is a programming error and panics. body is copied.
func (r *Reservation) Complete(kind Kind, body []byte) {
	if !kind.user() {
		panic(fmt.Sprintf("log: Complete with reserved kind %d", kind))
	}
	r.complete(kind, body)
}

func (r *Reservation) complete(kind Kind, body []byte) {
	if r.done {
		panic("log: reservation completed twice")
	}
	if len(body) != r.size {
		panic(fmt.Sprintf("log: Complete with %d bytes for a reservation of %d", len(body), r.size))
	}
	r.done = true
	l := r.l
	if r.blob {
		// L8: the blob is durable before its pointer enters the buffer.
		crc, err := l.writeBlob(r.lsn, kind, body)
		if err != nil {
			l.fail(err)
			putCanceled(r.b.data[r.off:], r.lsn, blobPointerSize)
			l.stats.canceled.Add(1)
			l.leave(r.b)
			return
		}
		ptr := blobPointer{kind: kind, size: uint64(len(body)), crc: crc}
		putRecord(r.b.data[r.off:r.off+uint64(recordSize(blobPointerSize))], KindBlob, r.lsn, ptr.encode())
		l.stats.blobs.Add(1)
		l.stats.blobBytes.Add(int64(len(body)))
	} else {
		putRecord(r.b.data[r.off:r.off+uint64(recordSize(len(body)))], kind, r.lsn, body)
	}
	if kind.user() {
		l.stats.records.Add(1)
	}
	l.leave(r.b)
}

// Abort releases the slot; it is written as a canceled record, which
// replay skips. Abort after Complete (or twice) panics.
func (r *Reservation) Abort() {
	if r.done {
		panic("log: reservation completed twice")
	}
	r.done = true
	n := r.size
	if r.blob {
		n = blobPointerSize
	}
	putCanceled(r.b.data[r.off:], r.lsn, n)
	r.l.stats.canceled.Add(1)
	r.l.leave(r.b)
}

// Append appends a record and returns its LSN. It is Reserve + Complete.
func (l *Log) Append(kind Kind, body []byte) (LSN, error) {
	if !kind.user() {
		return 0, fmt.Errorf("%w: %d", ErrInvalidKind, kind)
	}
	return l.append(kind, body)
}

func (l *Log) append(kind Kind, body []byte) (LSN, error) {
	r, err := l.Reserve(len(body))
	if err != nil {
		return 0, err
	}
	r.complete(kind, body)
	if err := l.err(); err != nil && r.blob {
		return 0, err // the blob failed: the record is canceled
	}
	return r.lsn, nil
}

// BeginBatch appends a batch-start record. Until the matching EndBatch
// record is durable, recovery drops the batch start and everything after
// it. Batches must not nest, and nothing but the batch's records may be
// appended between BeginBatch and EndBatch.
func (l *Log) BeginBatch() error {
	_, err := l.append(KindBatchStart, nil)
	return err
}

// EndBatch appends the batch-end record of the open batch.
func (l *Log) EndBatch() error {
	_, err := l.append(KindBatchEnd, nil)
	return err
}

// Flush returns when every record whose reservation was completed or
// aborted before the call is durable. Concurrent callers share syncs
// (group commit). It returns the sticky error, if any.
func (l *Log) Flush() error {
	if l.closed.Load() {
		return ErrClosed
	}
	return l.flush()
}

func (l *Log) flush() error {
	if err := l.err(); err != nil {
		return err
	}
	// Every record reserved before the call ends at or before Tail. The
	// I/O goroutine seals the current buffer when it gets to it (trySeal),
	// so that every Flush arriving while it syncs shares the next buffer
	// and the next sync.
	return l.waitStable(l.Tail())
}

// trySeal seals the current buffer if it holds data below target and the
// next buffer can be installed without waiting. The I/O goroutine calls
// it, so it must never wait for a ring slot (that would wait for itself).
func (l *Log) trySeal(target LSN) {
	l.ring.Lock()
	defer l.ring.Unlock()
	for {
		b := l.cur.Load()
		h := b.hdr.Load()
		off := h & offsetMask
		if h&sealedBit != 0 || off == 0 || b.base >= target || l.ring.busy[(b.gen+1)%uint64(l.nbuf)] {
			return
		}
		// L3: seal and join, as in reserve; no segment end is needed
		// since no record failed to fit. The next slot is free and only
		// this sealer installs into it, so installLocked does not wait.
		lfdelay.Point("log.trySeal")
		if b.hdr.CompareAndSwap(h, (h|sealedBit)+oneWriter) {
			l.stats.sealed.Add(1)
			l.leave(b)
			l.installLocked(b.gen+1, b.base+LSN(off))
			return
		}
	}
}

// waitStable waits until Stable() >= target.
func (l *Log) waitStable(target LSN) error {
	if LSN(l.stable.Load()) >= target {
		return l.err()
	}
	maxStore(&l.wanted, uint64(target))
	l.syncWaiters.Add(1) // before the kick, so that gather counts this call
	l.syncArrivals.Add(1)
	defer l.syncWaiters.Add(-1)
	select {
	case l.kick <- struct{}{}:
	default:
	}
	for {
		ch := l.stableN.wait() // before the checks: a broadcast after them closes ch
		if LSN(l.stable.Load()) >= target {
			return l.err()
		}
		if err := l.err(); err != nil {
			return err
		}
		if l.closed.Load() {
			return ErrClosed
		}
		<-ch
	}
}

// maxStore raises a to v if it is below.
func maxStore(a *atomic.Uint64, v uint64) {
	for {
		old := a.Load()
		if old >= v || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// waitWritten waits until Written() >= target.
// WaitWritten waits until every record below target that was reserved is
// written to its file (not necessarily synced), asking the I/O goroutine
// to write the buffers that hold them now rather than when they fill. A
// caller holding an incomplete reservation below target must not call it
// (that buffer is written only once the reservation completes).
func (l *Log) WaitWritten(target LSN) error { return l.waitWritten(target) }

func (l *Log) waitWritten(target LSN) error {
	if LSN(l.written.Load()) >= target {
		return nil
	}
	maxStore(&l.wantedW, uint64(target))
	select {
	case l.kick <- struct{}{}:
	default:
	}
	for {
		ch := l.writtenN.wait() // before the checks: a broadcast after them closes ch
		if LSN(l.written.Load()) >= target {
			break
		}
		if err := l.err(); err != nil {
			return err
		}
		if l.closed.Load() {
			return ErrClosed
		}
		<-ch
	}
	return nil
}
