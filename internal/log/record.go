package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// LSN is a logical byte position in the log. Segment s covers the LSNs
// [s*SegmentSize, (s+1)*SegmentSize); the record at LSN l lives in the file of
// segment l/SegmentSize at offset l%SegmentSize.
type LSN uint64

// Kind is the type of a record. Kinds 1..MaxUserKind belong to the caller;
// the log reserves the kinds above MaxUserKind for itself. Kind 0 is never
// valid, so that zeroed space (zeroAhead, a segment's holes) never decodes
// as a record.
type Kind uint8

// Record kinds.
const (
	// MaxUserKind is the largest kind a caller may append.
	MaxUserKind Kind = 239

	// KindBlob is a blob pointer: the body of the real record lives in a
	// blob file (see doc.go). Read and replay resolve it transparently.
	KindBlob Kind = 251
	// KindBatchEnd closes the batch opened by the last KindBatchStart.
	KindBatchEnd Kind = 252
	// KindBatchStart opens an atomic batch.
	KindBatchStart Kind = 253
	// KindCanceled is an aborted reservation; replay skips it.
	KindCanceled Kind = 254
	// KindSegmentEnd ends a segment: the next record is at the start of
	// the next segment.
	KindSegmentEnd Kind = 255
)

// valid reports whether k may appear in a segment file.
func (k Kind) valid() bool { return k != 0 && (k <= MaxUserKind || k >= KindBlob) }

// user reports whether k is a caller's kind.
func (k Kind) user() bool { return k != 0 && k <= MaxUserKind }

// Sizes and limits of the record frame.
const (
	// headerSize is the size of the record frame before the body:
	// crc32c (4) | length (4) | kind (1) | lsn (8).
	headerSize = 17

	// MaxBodySize is the largest body of one record (1 GiB).
	MaxBodySize = 1 << 30

	// blobPointerSize is the body size of a KindBlob record:
	// kind (1) | body length (8) | crc32c of the blob file (4).
	blobPointerSize = 13
)

// Errors returned by the log. Match them with errors.Is.
var (
	// ErrCorrupt is wrapped by every error that reports bad data on disk:
	// a record or blob that fails its checksum, LSN or length checks where
	// the log must be intact (not at its torn tail).
	ErrCorrupt = errors.New("log: corrupt")

	// ErrClosed is returned by operations on a closed Log.
	ErrClosed = errors.New("log: closed")

	// ErrInvalidLSN is returned by Read when the LSN is not (or not yet)
	// the position of a caller's record.
	ErrInvalidLSN = errors.New("log: invalid LSN")

	// ErrInvalidKind is returned by Append for kinds outside 1..MaxUserKind.
	ErrInvalidKind = errors.New("log: invalid kind")

	// ErrTooLarge is returned for bodies over MaxBodySize.
	ErrTooLarge = errors.New("log: record too large")

	// ErrReadOnly is returned by every writing method of a Log opened with
	// Options.ReadOnly.
	ErrReadOnly = errors.New("log: opened read-only")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordSize returns the size of the frame of a record with an n-byte body.
func recordSize(n int) int { return headerSize + n }

// putRecord encodes a record into dst, which must be exactly
// recordSize(len(body)) bytes long.
func putRecord(dst []byte, kind Kind, lsn LSN, body []byte) {
	binary.LittleEndian.PutUint32(dst[4:8], uint32(len(body)))
	dst[8] = byte(kind)
	binary.LittleEndian.PutUint64(dst[9:17], uint64(lsn))
	copy(dst[headerSize:], body)
	binary.LittleEndian.PutUint32(dst[0:4], crc32.Checksum(dst[4:headerSize+len(body)], castagnoli))
}

// putCanceled encodes a canceled record with an n-byte zero body into dst.
func putCanceled(dst []byte, lsn LSN, n int) {
	clear(dst[headerSize : headerSize+n])
	putRecord(dst[:headerSize+n], KindCanceled, lsn, dst[headerSize:headerSize+n])
}

// EncodeRecord appends the frame of a record to dst. It is the inverse of
// DecodeRecord and exists for tools and tests; the log encodes in place.
func EncodeRecord(dst []byte, kind Kind, lsn LSN, body []byte) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, recordSize(len(body)))...)
	putRecord(dst[n:], kind, lsn, body)
	return dst
}

// DecodeRecord decodes the record frame at the start of buf, which must be
// the record at lsn. It returns the kind, the body (a sub-slice of buf) and
// the size of the frame. Every failure wraps ErrCorrupt; DecodeRecord never
// panics.
func DecodeRecord(buf []byte, lsn LSN) (kind Kind, body []byte, size int, err error) {
	if len(buf) < headerSize {
		return 0, nil, 0, fmt.Errorf("%w: short record header at LSN %d", ErrCorrupt, lsn)
	}
	kind = Kind(buf[8])
	if !kind.valid() {
		return 0, nil, 0, fmt.Errorf("%w: bad kind %d at LSN %d", ErrCorrupt, kind, lsn)
	}
	length := uint64(binary.LittleEndian.Uint32(buf[4:8]))
	if length > MaxBodySize || length > uint64(len(buf)-headerSize) {
		return 0, nil, 0, fmt.Errorf("%w: bad length %d at LSN %d", ErrCorrupt, length, lsn)
	}
	if got := LSN(binary.LittleEndian.Uint64(buf[9:17])); got != lsn {
		return 0, nil, 0, fmt.Errorf("%w: record claims LSN %d at LSN %d", ErrCorrupt, got, lsn)
	}
	size = headerSize + int(length)
	if crc := crc32.Checksum(buf[4:size], castagnoli); crc != binary.LittleEndian.Uint32(buf[0:4]) {
		return 0, nil, 0, fmt.Errorf("%w: checksum mismatch at LSN %d", ErrCorrupt, lsn)
	}
	return kind, buf[headerSize:size], size, nil
}

// blobPointer is the decoded body of a KindBlob record.
type blobPointer struct {
	kind Kind
	size uint64
	crc  uint32 // crc32c stored in the blob file's header
}

func (p blobPointer) encode() []byte {
	var b [blobPointerSize]byte
	b[0] = byte(p.kind)
	binary.LittleEndian.PutUint64(b[1:9], p.size)
	binary.LittleEndian.PutUint32(b[9:13], p.crc)
	return b[:]
}

func decodeBlobPointer(body []byte, lsn LSN) (blobPointer, error) {
	if len(body) != blobPointerSize {
		return blobPointer{}, fmt.Errorf("%w: blob pointer of %d bytes at LSN %d", ErrCorrupt, len(body), lsn)
	}
	p := blobPointer{
		kind: Kind(body[0]),
		size: binary.LittleEndian.Uint64(body[1:9]),
		crc:  binary.LittleEndian.Uint32(body[9:13]),
	}
	if !p.kind.user() || p.size > MaxBodySize {
		return blobPointer{}, fmt.Errorf("%w: bad blob pointer (kind %d, size %d) at LSN %d", ErrCorrupt, p.kind, p.size, lsn)
	}
	return p, nil
}
