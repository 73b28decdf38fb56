package codec

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

var testLimits = Limits{MaxKeyBytes: 1 << 10, MaxValueBytes: 1 << 16, MaxNameBytes: 1 << 10}

type dumpTree struct {
	name    string
	entries [][2][]byte
}

func encodeDump(t testing.TB, trees []dumpTree) []byte {
	var buf bytes.Buffer
	w := NewDumpWriter(&buf)
	for _, tr := range trees {
		if err := w.Tree(tr.name); err != nil {
			t.Fatal(err)
		}
		for _, e := range tr.entries {
			if err := w.Entry(e[0], e[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeDump(data []byte) ([]dumpTree, error) {
	r, err := NewDumpReader(bytes.NewReader(data), testLimits)
	if err != nil {
		return nil, err
	}
	var out []dumpTree
	for {
		rec, ok, err := r.Next()
		if err != nil {
			return out, err
		}
		if !ok {
			return out, nil
		}
		if rec.Key == nil {
			out = append(out, dumpTree{name: rec.Tree})
			continue
		}
		last := &out[len(out)-1]
		last.entries = append(last.entries, [2][]byte{bytes.Clone(rec.Key), bytes.Clone(rec.Value)})
	}
}

func sampleTrees() []dumpTree {
	return []dumpTree{
		{name: "default", entries: [][2][]byte{{{}, []byte("empty key")}, {[]byte("a"), {}}, {[]byte("b"), []byte("2")}}},
		{name: "empty"},
		{name: "t", entries: [][2][]byte{{[]byte("x"), bytes.Repeat([]byte{7}, 1000)}}},
	}
}

func TestDumpRoundTrip(t *testing.T) {
	in := sampleTrees()
	got, err := decodeDump(encodeDump(t, in))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(in) {
		t.Fatalf("got %v, want %v", got, in)
	}
}

func TestDumpDetectsDamage(t *testing.T) {
	data := encodeDump(t, sampleTrees())
	// Every truncation and every single bit flip must be reported as
	// corruption, never decoded into different data.
	for n := 0; n < len(data); n++ {
		if _, err := decodeDump(data[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: err = %v", n, err)
		}
	}
	for i := 0; i < len(data)*8; i++ {
		c := bytes.Clone(data)
		c[i/8] ^= 1 << (i % 8)
		got, err := decodeDump(c)
		if err == nil {
			t.Fatalf("bit %d flipped: decoded %v without error", i, got)
		}
	}
	if _, err := decodeDump(append(bytes.Clone(data), 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: err = %v", err)
	}
}

func FuzzDump(f *testing.F) {
	f.Add(encodeDump(f, sampleTrees()))
	f.Add(encodeDump(f, nil))
	f.Add([]byte("SLEDDUMP\x01T\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		trees, err := decodeDump(data)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to a dump that decodes the same.
		again, err := decodeDump(encodeDump(t, trees))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(trees) {
			t.Fatalf("round trip: %v %v vs %v", err, again, trees)
		}
	})
}
