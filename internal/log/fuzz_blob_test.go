package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzDecodeBlobPointer: decodeBlobPointer never panics and every failure
// wraps ErrCorrupt; what it accepts names a caller's kind and a size within
// MaxBodySize, re-encodes to the same bytes, and survives a KindBlob record
// frame; every valid pointer round-trips.
func FuzzDecodeBlobPointer(f *testing.F) {
	f.Add(blobPointer{kind: 1}.encode(), uint64(0))
	f.Add(blobPointer{kind: MaxUserKind, size: MaxBodySize, crc: 0xffffffff}.encode(), uint64(1<<40))
	f.Add(blobPointer{kind: 7, size: MaxBodySize + 1, crc: 1}.encode(), uint64(7))
	f.Add(blobPointer{kind: KindBlob, size: 9000}.encode(), uint64(65536))
	f.Add(blobPointer{kind: 3, size: 9000, crc: 42}.encode()[:12], uint64(17))
	f.Add([]byte{}, uint64(0))
	f.Fuzz(func(t *testing.T, body []byte, lsn uint64) {
		p, err := decodeBlobPointer(body, LSN(lsn))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
		} else {
			if !p.kind.user() || p.size > MaxBodySize {
				t.Fatalf("accepted %+v", p)
			}
			if enc := p.encode(); !bytes.Equal(enc, body) {
				t.Fatalf("%+v re-encodes to %x, not %x", p, enc, body)
			}
			rec := EncodeRecord(nil, KindBlob, LSN(lsn), body)
			kind, b, n, err := DecodeRecord(rec, LSN(lsn))
			if err != nil || kind != KindBlob || n != len(rec) {
				t.Fatalf("blob record: kind %d, %d of %d bytes, %v", kind, n, len(rec), err)
			}
			if q, err := decodeBlobPointer(b, LSN(lsn)); err != nil || q != p {
				t.Fatalf("through a record: %+v, %v; want %+v", q, err, p)
			}
		}
		// Any valid pointer made from the input round-trips.
		var raw [blobPointerSize]byte
		copy(raw[:], body)
		want := blobPointer{
			kind: Kind(1 + raw[0]%byte(MaxUserKind)),
			size: binary.LittleEndian.Uint64(raw[1:9]) % (MaxBodySize + 1),
			crc:  binary.LittleEndian.Uint32(raw[9:13]),
		}
		if got, err := decodeBlobPointer(want.encode(), LSN(lsn)); err != nil || got != want {
			t.Fatalf("round trip of %+v: %+v, %v", want, got, err)
		}
	})
}
