package sled

import (
	"errors"
	"testing"
)

func TestMetaRoundTrip(t *testing.T) {
	for _, size := range []int{64 << 10, 8 << 20, 1 << 30} {
		m, err := decodeMeta(encodeMeta(meta{segmentSizeBytes: size}))
		if err != nil || m.segmentSizeBytes != size {
			t.Fatalf("round trip of %d: %+v, %v", size, m, err)
		}
	}
	good := encodeMeta(meta{segmentSizeBytes: 1 << 20})
	for i := range good {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x01
		if _, err := decodeMeta(bad); err == nil {
			t.Fatalf("flipping byte %d of %q went unnoticed", i, good)
		}
	}
	for _, cut := range []int{0, 5, len(good) - 1} {
		if _, err := decodeMeta(good[:cut]); !errors.Is(err, ErrCorruption) {
			t.Fatalf("META cut to %d bytes: %v, want ErrCorruption", cut, err)
		}
	}
}

// FuzzDecodeMeta: the META decoder never panics, and what it accepts is in
// range (FuzzMetaRoundTrip checks the round trip of decoded values).
func FuzzDecodeMeta(f *testing.F) {
	f.Add(encodeMeta(meta{segmentSizeBytes: 8 << 20}))
	f.Add([]byte("sled-meta 1\ncrc32 00000000\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			return
		}
		if m.segmentSizeBytes < 64<<10 || m.segmentSizeBytes > 1<<30 {
			t.Fatalf("accepted segment size %d", m.segmentSizeBytes)
		}
	})
}
