package codec

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzDumpReader: under limits taken from the input (so the limit checks
// are reached with small records), NewDumpReader and Next never panic;
// every failure but an unsupported version wraps ErrCorrupt; a dump read
// one byte at a time gives the same records and the same error; the
// records obey the limits and ordering; and an accepted dump re-encodes to
// a dump that decodes to the same trees. The encoding is not canonical
// (lengths are uvarints read with binary.ReadUvarint and binary.Uvarint),
// so the round trip is on the decoded trees, not on the bytes.
func FuzzDumpReader(f *testing.F) {
	f.Add(encodeDump(f, sampleTrees()), uint16(0xffff), uint16(0xffff), uint8(0xff))
	f.Add(encodeDump(f, sampleTrees()), uint16(1), uint16(100), uint8(3))
	f.Add(encodeDump(f, nil), uint16(0), uint16(0), uint8(0))
	f.Add(encodeDump(f, []dumpTree{{name: "a", entries: [][2][]byte{{[]byte("k"), []byte("v")}}}, {name: "a"}}), uint16(8), uint16(8), uint8(8))
	f.Add([]byte("SLEDDUMP\x02"), uint16(8), uint16(8), uint8(8))
	f.Add([]byte("SLEDDUMP\x01E\x00\x00\x00\x00\x00"), uint16(8), uint16(8), uint8(8))
	f.Fuzz(func(t *testing.T, data []byte, maxKey, maxVal uint16, maxName uint8) {
		lim := Limits{MaxKeyBytes: int(maxKey), MaxValueBytes: int(maxVal), MaxNameBytes: int(maxName)}
		trees, err := readDump(bytes.NewReader(data), lim)
		if err != nil && !errors.Is(err, ErrCorrupt) && !strings.Contains(err.Error(), "version") {
			t.Fatalf("error is neither corruption nor a version mismatch: %v", err)
		}
		slow, slowErr := readDump(iotest.OneByteReader(bytes.NewReader(data)), lim)
		if fmt.Sprint(slow) != fmt.Sprint(trees) || fmt.Sprint(slowErr) != fmt.Sprint(err) {
			t.Fatalf("one byte at a time: %v, %v\nat once: %v, %v", slow, slowErr, trees, err)
		}
		for _, tr := range trees {
			if len(tr.name) > lim.MaxNameBytes {
				t.Fatalf("tree name of %d bytes, limit %d", len(tr.name), lim.MaxNameBytes)
			}
			for i, e := range tr.entries {
				if len(e[0]) > lim.MaxKeyBytes || len(e[1]) > lim.MaxValueBytes {
					t.Fatalf("entry of %d/%d bytes, limits %+v", len(e[0]), len(e[1]), lim)
				}
				if i > 0 && bytes.Compare(tr.entries[i-1][0], e[0]) >= 0 {
					t.Fatalf("tree %q: keys %d and %d out of order", tr.name, i-1, i)
				}
			}
		}
		if err != nil {
			return
		}
		enc := encodeDump(t, trees)
		again, err := readDump(bytes.NewReader(enc), lim)
		if err != nil || fmt.Sprint(again) != fmt.Sprint(trees) {
			t.Fatalf("round trip: %v %v vs %v", err, again, trees)
		}
	})
}

// readDump reads a whole dump from r into trees (cloning keys and values),
// returning the trees read before any error.
func readDump(r interface{ Read([]byte) (int, error) }, lim Limits) ([]dumpTree, error) {
	d, err := NewDumpReader(r, lim)
	if err != nil {
		return nil, err
	}
	var out []dumpTree
	for {
		rec, ok, err := d.Next()
		if err != nil || !ok {
			return out, err
		}
		if rec.Key == nil {
			out = append(out, dumpTree{name: rec.Tree})
			continue
		}
		last := &out[len(out)-1]
		last.entries = append(last.entries, [2][]byte{bytes.Clone(rec.Key), bytes.Clone(rec.Value)})
	}
}
