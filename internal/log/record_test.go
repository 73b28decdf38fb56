package log

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzRecordDecode(f *testing.F) {
	f.Add(EncodeRecord(nil, 1, 0, nil), uint64(0))
	f.Add(EncodeRecord(nil, 7, 4096, []byte("hello")), uint64(4096))
	f.Add(EncodeRecord(nil, KindSegmentEnd, 65519, nil), uint64(65519))
	f.Add(EncodeRecord(nil, KindBlob, 17, blobPointer{kind: 3, size: 9000, crc: 42}.encode()), uint64(17))
	f.Add(make([]byte, 64), uint64(0))
	f.Add(EncodeRecord(nil, 2, 1, []byte("torn"))[:12], uint64(1))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0}, uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, lsn uint64) {
		kind, body, n, err := DecodeRecord(data, LSN(lsn))
		if err == nil {
			if !errors.Is(err, nil) || n > len(data) || n != headerSize+len(body) {
				t.Fatalf("bad decode: n %d len %d", n, len(data))
			}
			if enc := EncodeRecord(nil, kind, LSN(lsn), body); !bytes.Equal(enc, data[:n]) {
				t.Fatalf("re-encoding differs")
			}
			if kind == KindBlob {
				_, _ = decodeBlobPointer(body, LSN(lsn))
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error does not wrap ErrCorrupt: %v", err)
		}
		// Any body round-trips under a valid kind.
		k := Kind(1 + lsn%uint64(MaxUserKind))
		enc := EncodeRecord([]byte("prefix"), k, LSN(lsn), data)
		k2, b2, n2, err := DecodeRecord(enc[6:], LSN(lsn))
		if err != nil || k2 != k || !bytes.Equal(b2, data) || n2 != len(enc)-6 {
			t.Fatalf("round trip: %v", err)
		}
		// A wrong LSN never decodes.
		if _, _, _, err := DecodeRecord(enc[6:], LSN(lsn+1)); err == nil {
			t.Fatal("decoded at the wrong LSN")
		}
	})
}
