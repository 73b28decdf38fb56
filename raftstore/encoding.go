package raftstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	"github.com/sledgo/sled"
)

// The value stored for each raft.Log, in the logs tree under the 8-byte
// big-endian Index. Version 1, every field of raft.Log:
//
//	+---------+-------+-----------------+----------------+------+
//	| version | flags | Index (uvarint) | Term (uvarint) | Type |
//	| 1 byte  | 1 byte|   1..10 bytes   |  1..10 bytes   |1 byte|
//	+---------+-------+-----------------+----------------+------+
//	| len(Data) uvarint | Data | len(Extensions) uvarint | Extensions |
//	+-------------------+------+-------------------------+------------+
//	| AppendedAt, only when flagTime: seconds since 1970 (zigzag varint), |
//	| nanoseconds (uvarint, < 1e9)                                        |
//	+---------------------------------------------------------------------+
//
// flags: bit 0 (flagData) Data is non-nil, bit 1 (flagExt) Extensions is
// non-nil, bit 2 (flagTime) AppendedAt is not the zero time; the other bits
// must be zero. So nil and empty slices round-trip as they were, and the
// zero time stays the zero time. AppendedAt keeps its instant (seconds and
// nanoseconds) and comes back in UTC; its location and monotonic clock
// reading are not stored (raft uses it only for metrics).
//
// Nothing may follow the last field. Integrity is sled's job (every record
// it writes carries a CRC); the decoder checks the structure, so a value it
// cannot read is reported, never guessed at.
const (
	encodingV1 byte = 1

	flagData byte = 1 << 0
	flagExt  byte = 1 << 1
	flagTime byte = 1 << 2
	flagsV1       = flagData | flagExt | flagTime

	// maxHeaderBytes bounds the encoding without Data and Extensions:
	// version, flags, Index, Term, Type, two lengths, seconds, nanoseconds.
	maxHeaderBytes = 1 + 1 + 10 + 10 + 1 + 10 + 10 + 10 + 5
)

var (
	// ErrUnknownVersion is returned (wrapped, together with
	// sled.ErrCorruption) when a stored log's encoding version is not one
	// this package reads: the store was written by a newer raftstore, or
	// the byte is corrupt.
	ErrUnknownVersion = errors.New("raftstore: unknown log encoding version")
	// ErrBadEncoding is returned (wrapped, together with
	// sled.ErrCorruption) when a stored log is truncated, has trailing
	// bytes, unknown flags or impossible field values.
	ErrBadEncoding = errors.New("raftstore: malformed log encoding")
)

// encodedLen returns an upper bound of the encoding of l.
func encodedLen(l *raft.Log) int {
	return maxHeaderBytes + len(l.Data) + len(l.Extensions)
}

// appendLog appends the version-1 encoding of l to dst.
func appendLog(dst []byte, l *raft.Log) []byte {
	var flags byte
	if l.Data != nil {
		flags |= flagData
	}
	if l.Extensions != nil {
		flags |= flagExt
	}
	if !l.AppendedAt.IsZero() {
		flags |= flagTime
	}
	dst = append(dst, encodingV1, flags)
	dst = binary.AppendUvarint(dst, l.Index)
	dst = binary.AppendUvarint(dst, l.Term)
	dst = append(dst, byte(l.Type))
	dst = binary.AppendUvarint(dst, uint64(len(l.Data)))
	dst = append(dst, l.Data...)
	dst = binary.AppendUvarint(dst, uint64(len(l.Extensions)))
	dst = append(dst, l.Extensions...)
	if flags&flagTime != 0 {
		dst = binary.AppendVarint(dst, l.AppendedAt.Unix())
		dst = binary.AppendUvarint(dst, uint64(l.AppendedAt.Nanosecond()))
	}
	return dst
}

// decodeLog decodes b (the encoding made by appendLog) into l, overwriting
// every field. Data and Extensions are copied out of b into one new
// allocation, so l never aliases b. On error l is left unchanged and the
// error matches sled.ErrCorruption and ErrUnknownVersion or ErrBadEncoding.
func decodeLog(b []byte, l *raft.Log) error {
	if len(b) == 0 {
		return badEncoding("empty value")
	}
	if b[0] != encodingV1 {
		return fmt.Errorf("%w %d (this build reads version %d): %w", ErrUnknownVersion, b[0], encodingV1, sled.ErrCorruption)
	}
	if len(b) < 2 {
		return badEncoding("truncated before flags")
	}
	flags := b[1]
	if flags&^flagsV1 != 0 {
		return badEncoding(fmt.Sprintf("unknown flags %#02x", flags))
	}
	d := decoder{b: b[2:]}
	index := d.uvarint("Index")
	term := d.uvarint("Term")
	typ := d.byte1("Type")
	data := d.bytes("Data")
	ext := d.bytes("Extensions")
	var at time.Time
	if flags&flagTime != 0 {
		sec := d.varint("AppendedAt seconds")
		nsec := d.uvarint("AppendedAt nanoseconds")
		if d.err == nil && nsec >= uint64(time.Second) {
			d.fail(fmt.Sprintf("AppendedAt nanoseconds %d out of range", nsec))
		}
		if d.err == nil {
			at = time.Unix(sec, int64(nsec)).UTC()
			if at.IsZero() || at.Unix() != sec {
				d.fail(fmt.Sprintf("AppendedAt %d.%09d not representable", sec, nsec))
			}
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Sprintf("%d trailing bytes", len(d.b)))
	}
	if d.err != nil {
		return d.err
	}
	if flags&flagData == 0 && len(data) != 0 || flags&flagExt == 0 && len(ext) != 0 {
		return badEncoding("nil field with a length")
	}
	// One allocation for both slices; cap limited so an append to Data
	// cannot overwrite Extensions.
	var buf []byte
	if n := len(data) + len(ext); n > 0 {
		buf = make([]byte, n)
		copy(buf, data)
		copy(buf[len(data):], ext)
	}
	l.Index, l.Term, l.Type, l.AppendedAt = index, term, raft.LogType(typ), at
	l.Data, l.Extensions = nil, nil
	if flags&flagData != 0 {
		l.Data = buf[:len(data):len(data)]
		if l.Data == nil {
			l.Data = []byte{}
		}
	}
	if flags&flagExt != 0 {
		l.Extensions = buf[len(data):len(buf):len(buf)]
		if l.Extensions == nil {
			l.Extensions = []byte{}
		}
	}
	return nil
}

func badEncoding(reason string) error {
	return fmt.Errorf("%w: %s: %w", ErrBadEncoding, reason, sled.ErrCorruption)
}

// decoder reads fields from b; the first failure sticks in err and later
// reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(reason string) {
	if d.err == nil {
		d.err = badEncoding(reason)
	}
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated or overlong " + field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("truncated or overlong " + field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte1(field string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated before " + field)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// bytes reads a length-prefixed field; the returned slice aliases the input.
func (d *decoder) bytes(field string) []byte {
	n := d.uvarint("length of " + field)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(fmt.Sprintf("%s of %d bytes, %d left", field, n, len(d.b)))
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}
