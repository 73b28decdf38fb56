package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Read returns the kind and body of the caller's record at lsn; the body is
// a fresh slice the caller owns. A blob is resolved transparently. If the
// record is not yet written to its file, Read first has it written (it
// seals the current buffer and waits), so the reservation at lsn must be
// completed by someone. Data failing its checks gives an error wrapping
// ErrCorrupt; lsn not at a caller's record, ErrInvalidLSN (or ErrCorrupt
// when lsn is not a record boundary at all).
func (l *Log) Read(lsn LSN) (Kind, []byte, error) { return l.ReadHint(lsn, 0) }

// ReadHint is Read with a guess of the record's body size: a guess at or
// above it reads the record in one pread (header and body together); a
// lower guess (or 0) costs a second pread for the rest.
func (l *Log) ReadHint(lsn LSN, bodyHint int) (Kind, []byte, error) {
	kind, body, _, err := l.ReadInto(lsn, bodyHint, nil)
	return kind, body, err
}

// ReadInto is ReadHint reading into scratch when its capacity suffices, so
// that a caller can reuse its buffers: the body then aliases scratch. It
// returns the buffer it used (scratch, a fresh one, or nil on error) for
// the caller to reuse once it no longer needs the body. A blob's body is
// always a fresh slice.
func (l *Log) ReadInto(lsn LSN, bodyHint int, scratch []byte) (Kind, []byte, []byte, error) {
	if l.closed.Load() {
		return 0, nil, nil, ErrClosed
	}
	off := int64(lsn % l.segSize)
	if lsn >= l.Tail() || off > int64(l.segSize)-headerSize {
		return 0, nil, nil, fmt.Errorf("%w: %d (tail %d)", ErrInvalidLSN, lsn, l.Tail())
	}
	if err := l.waitWritten(lsn + headerSize); err != nil {
		return 0, nil, nil, err
	}
	seg := uint64(lsn / l.segSize)
	f, err := l.segFile(seg)
	if err != nil {
		return 0, nil, nil, err
	}
	// One read of the header and the hinted body, within the segment.
	first := headerSize + int64(max(bodyHint, 0))
	first = min(first, int64(l.segSize)-off)
	buf := scratch[:0]
	if int64(cap(buf)) < first {
		buf = make([]byte, first)
	}
	buf = buf[:first]
	used := buf
	n, err := f.ReadAt(buf, off)
	if n < headerSize {
		return 0, nil, nil, fmt.Errorf("log: read LSN %d: %w", lsn, orCorrupt(err))
	}
	length := int64(binary.LittleEndian.Uint32(buf[4:8]))
	if off+headerSize+length > int64(l.segSize) {
		return 0, nil, nil, fmt.Errorf("%w: bad length %d at LSN %d", ErrCorrupt, length, lsn)
	}
	if total := headerSize + length; total <= int64(n) {
		buf = buf[:total:total]
	} else {
		// The hint was short (or the read stopped at the file's end):
		// read the rest.
		whole := used[:0]
		if int64(cap(whole)) < total {
			whole = make([]byte, total)
		}
		whole = whole[:total]
		copy(whole, buf[:n]) // a no-op when whole reuses buf
		used = whole
		if m, err := f.ReadAt(whole[n:], off+int64(n)); int64(m) != total-int64(n) {
			return 0, nil, nil, fmt.Errorf("log: read LSN %d: %w", lsn, orCorrupt(err))
		}
		buf = whole
	}
	kind, body, _, err := DecodeRecord(buf, lsn)
	if err != nil {
		return 0, nil, nil, err
	}
	switch {
	case kind == KindBlob:
		ptr, err := decodeBlobPointer(body, lsn)
		if err != nil {
			return 0, nil, nil, err
		}
		body, err := l.readBlob(lsn, ptr)
		if err != nil {
			return 0, nil, nil, err
		}
		return ptr.kind, body, used, nil
	case kind.user():
		return kind, body, used, nil
	}
	return 0, nil, nil, fmt.Errorf("%w: LSN %d holds internal record kind %d", ErrInvalidLSN, lsn, kind)
}

// orCorrupt turns the nil or EOF error of a short read into corruption.
func orCorrupt(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: short read", ErrCorrupt)
	}
	return err
}
