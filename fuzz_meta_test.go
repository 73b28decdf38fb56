package sled

import (
	"errors"
	"strings"
	"testing"
)

// FuzzMetaRoundTrip: decodeMeta never panics; every failure but a newer
// format version matches ErrCorruption; what it accepts re-encodes (in the
// canonical form encodeMeta writes) to bytes that decode to the same meta,
// and the canonical form is a fixed point. FuzzDecodeMeta (meta_test.go)
// checks the accepted range; this target checks the round trip.
func FuzzMetaRoundTrip(f *testing.F) {
	f.Add(encodeMeta(meta{segmentSizeBytes: 64 << 10}))
	f.Add(encodeMeta(meta{segmentSizeBytes: 1 << 30}))
	f.Add(encodeMeta(meta{segmentSizeBytes: 8 << 20}))
	f.Add([]byte("sled-meta 2\nsegment-size-bytes 65536\ncrc32 00000000\n"))
	f.Add([]byte("sled-meta 1\nsegment-size-bytes 65536\nother x\ncrc32 ffffffff\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			if !errors.Is(err, ErrCorruption) && !strings.Contains(err.Error(), "format version") {
				t.Fatalf("error is neither corruption nor a version mismatch: %v", err)
			}
			return
		}
		enc := encodeMeta(m)
		again, err := decodeMeta(enc)
		if err != nil || again != m {
			t.Fatalf("%q decodes to %+v, which re-encodes to %q: %+v, %v", b, m, enc, again, err)
		}
		if string(encodeMeta(again)) != string(enc) {
			t.Fatalf("canonical META %q is not a fixed point", enc)
		}
	})
}
