package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/testutil"
)

func encodeSnapshot(t testing.TB, s *Snapshot) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readSnap(data []byte) (*Snapshot, error) {
	return ReadSnapshot(bytes.NewReader(data), int64(len(data)))
}

func smallSnapshot() *Snapshot {
	return &Snapshot{
		LSN: 1234, NextPage: 300, IDHigh: math.MaxUint64,
		Trees: []TreeEntry{{Name: "", Root: 1, CreatedLSN: 0}, {Name: "users", Root: 7, CreatedLSN: 99}},
		Pages: []PageEntry{
			{ID: 1, Locs: []uint64{10}},
			{ID: 7, Locs: []uint64{20, 21, 1 << 40}},
			{ID: 300, Locs: make([]uint64, MaxPageLocs)},
		},
		Free: []FreeEntry{{ID: 2, LSN: 5}, {ID: 3, LSN: math.MaxUint64}},
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	for name, s := range map[string]*Snapshot{
		"empty": {},
		"zero":  {LSN: 0, NextPage: 0, IDHigh: 0},
		"small": smallSnapshot(),
	} {
		t.Run(name, func(t *testing.T) {
			data := encodeSnapshot(t, s)
			got, err := readSnap(data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, s) {
				t.Fatalf("got %+v, want %+v", got, s)
			}
			// Reading one byte at a time exercises every buffer refill.
			got, err = ReadSnapshot(iotest.OneByteReader(bytes.NewReader(data)), int64(len(data)))
			if err != nil || !reflect.DeepEqual(got, s) {
				t.Fatalf("one byte reader: %v %+v", err, got)
			}
			// A generous maxBytes is fine.
			got, err = ReadSnapshot(bytes.NewReader(data), math.MaxInt64)
			if err != nil || !reflect.DeepEqual(got, s) {
				t.Fatalf("large maxBytes: %v %+v", err, got)
			}
		})
	}
}

func TestSnapshotLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(testutil.Seed(t), 1))
	const pages = 100_000
	s := &Snapshot{LSN: r.Uint64(), NextPage: 2 * pages, IDHigh: r.Uint64()}
	for i := range 50 {
		s.Trees = append(s.Trees, TreeEntry{Name: string(rune('a'+i%26)) + string(rune('a'+i/26)), Root: node.PageID(1 + i), CreatedLSN: r.Uint64()})
	}
	s.Pages = make([]PageEntry, pages)
	for i := range s.Pages {
		locs := make([]uint64, 1+r.IntN(MaxPageLocs))
		for j := range locs {
			locs[j] = r.Uint64N(1 << 45)
		}
		s.Pages[i] = PageEntry{ID: node.PageID(1 + r.Uint64N(s.NextPage)), Locs: locs}
	}
	for range 1000 {
		s.Free = append(s.Free, FreeEntry{ID: node.PageID(1 + r.Uint64N(s.NextPage)), LSN: r.Uint64()})
	}
	data := encodeSnapshot(t, s)
	t.Logf("%d pages: %d bytes", pages, len(data))
	got, err := readSnap(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatal("100k-page snapshot did not round trip")
	}
	// Slab-carved locations never overlap a neighbour on append.
	got.Pages[0].Locs = append(got.Pages[0].Locs, 42)
	if !reflect.DeepEqual(got.Pages[1], s.Pages[1]) {
		t.Fatal("append to one page's Locs changed the next page")
	}
	// A one-bit flip in the middle is caught.
	data[len(data)/2] ^= 0x10
	if _, err := readSnap(data); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flip: %v", err)
	}
}

func TestSnapshotDamage(t *testing.T) {
	data := encodeSnapshot(t, smallSnapshot())
	for n := 0; n < len(data); n++ {
		if s, err := readSnap(data[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: %+v, %v", n, s, err)
		}
		// Also when the caller's bound is the full size.
		if s, err := ReadSnapshot(bytes.NewReader(data[:n]), int64(len(data))); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes (maxBytes %d): %+v, %v", n, len(data), s, err)
		}
	}
	for i := 0; i < len(data)*8; i++ {
		c := bytes.Clone(data)
		c[i/8] ^= 1 << (i % 8)
		if s, err := readSnap(c); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("bit %d flipped: %+v, %v", i, s, err)
		}
	}
	if _, err := readSnap(append(bytes.Clone(data), 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: %v", err)
	}
	if _, err := ReadSnapshot(bytes.NewReader(data), int64(len(data)-1)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("maxBytes below the size: %v", err)
	}
}

// withCRC appends a valid checksum, so that the tests reach the checks
// behind it.
func withCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func snapHeader(nextPage uint64) []byte {
	b := append([]byte(SnapshotMagic), SnapshotVersion, 0)
	return binary.AppendUvarint(b, nextPage) // then IDHigh and the lists
}

func TestReadSnapshotRejects(t *testing.T) {
	cases := map[string][]byte{
		"empty":            {},
		"bad magic":        withCRC(append([]byte("SLEDSNAQ"), 1, 0, 0, 0, 0, 0, 0)),
		"version 1":        withCRC(append([]byte(SnapshotMagic), 1, 0, 0, 0, 0, 0, 0)),
		"huge page count":  withCRC(append(snapHeader(9), 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)),
		"huge tree name":   withCRC(append(snapHeader(9), 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 0)),
		"page 0":           withCRC(append(snapHeader(9), 0, 0, 1, 0, 1, 5, 0)),
		"page > next page": withCRC(append(snapHeader(9), 0, 0, 1, 10, 1, 5, 0)),
		"no locations":     withCRC(append(snapHeader(9), 0, 0, 1, 1, 0, 0, 0)),
		"17 locations":     withCRC(append(snapHeader(9), 0, 0, 1, 1, 17, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0)),
		"root 0":           withCRC(append(snapHeader(9), 0, 1, 1, 't', 0, 0, 0, 0)),
		"duplicate tree":   withCRC(append(snapHeader(9), 0, 2, 1, 't', 1, 0, 1, 't', 2, 0, 0, 0)),
		"free page 0":      withCRC(append(snapHeader(9), 0, 0, 0, 1, 0, 0)),
		"non-minimal lsn":  withCRC(append([]byte(SnapshotMagic), SnapshotVersion, 0x80, 0x00, 0, 0, 0, 0, 0)),
		"bad checksum":     append(append(snapHeader(9), 0, 0, 0, 0), 1, 2, 3, 4),
	}
	cases["tree name 2^50"] = withCRC(binary.AppendUvarint(append(snapHeader(9), 0, 1), 1<<50))
	cases["page count 2^60"] = withCRC(binary.AppendUvarint(append(snapHeader(9), 0, 0), 1<<60))
	for name, b := range cases {
		if s, err := readSnap(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %+v, %v", name, s, err)
		}
		// With a loose bound the counts pass the size check, and
		// allocation must still follow the bytes actually present.
		if s, err := ReadSnapshot(bytes.NewReader(b), math.MaxInt64); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s (maxBytes MaxInt64): %+v, %v", name, s, err)
		}
	}
	// Sanity: the hand encoding is right.
	good := withCRC(append(snapHeader(9), 0, 1, 1, 't', 1, 0, 1, 1, 1, 5, 0, 1, 2, 3))
	s, err := readSnap(good)
	want := &Snapshot{NextPage: 9, Trees: []TreeEntry{{Name: "t", Root: 1}}, Pages: []PageEntry{{ID: 1, Locs: []uint64{5}}}, Free: []FreeEntry{{ID: 2, LSN: 3}}}
	if err != nil || !reflect.DeepEqual(s, want) {
		t.Fatalf("good: %+v, %v", s, err)
	}
}

func TestReadSnapshotReadError(t *testing.T) {
	data := encodeSnapshot(t, smallSnapshot())
	boom := errors.New("disk on fire")
	r := iotest.TimeoutReader(bytes.NewReader(data)) // second read fails
	_, err := ReadSnapshot(iotest.OneByteReader(r), int64(len(data)))
	if !errors.Is(err, iotest.ErrTimeout) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("read error: %v", err)
	}
	_, err = ReadSnapshot(iotest.ErrReader(boom), 100)
	if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("read error: %v", err)
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.after {
		n := w.after
		w.after = 0
		return n, errors.New("disk full")
	}
	w.after -= len(p)
	return len(p), nil
}

func TestWriteSnapshotErrors(t *testing.T) {
	bad := map[string]*Snapshot{
		"page 0":         {NextPage: 5, Pages: []PageEntry{{ID: 0, Locs: []uint64{1}}}},
		"page > next":    {NextPage: 5, Pages: []PageEntry{{ID: 6, Locs: []uint64{1}}}},
		"no locs":        {NextPage: 5, Pages: []PageEntry{{ID: 1}}},
		"too many locs":  {NextPage: 5, Pages: []PageEntry{{ID: 1, Locs: make([]uint64, MaxPageLocs+1)}}},
		"free page 0":    {NextPage: 5, Free: []FreeEntry{{ID: 0}}},
		"root 0":         {NextPage: 5, Trees: []TreeEntry{{Name: "t"}}},
		"duplicate tree": {NextPage: 5, Trees: []TreeEntry{{Name: "t", Root: 1}, {Name: "t", Root: 2}}},
	}
	for name, s := range bad {
		var buf bytes.Buffer
		if err := WriteSnapshot(&buf, s); err == nil || buf.Len() != 0 {
			t.Errorf("%s: err %v, wrote %d bytes", name, err, buf.Len())
		}
	}
	s := smallSnapshot()
	size := len(encodeSnapshot(t, s))
	for after := 0; after < size; after++ {
		if err := WriteSnapshot(&failWriter{after: after}, s); err == nil {
			t.Fatalf("write failing after %d bytes: no error", after)
		}
	}
}

func FuzzReadSnapshot(f *testing.F) {
	f.Add(encodeSnapshot(f, smallSnapshot()))
	f.Add(encodeSnapshot(f, &Snapshot{}))
	f.Add(withCRC(append(snapHeader(9), 0, 1, 1, 't', 1, 0, 1, 1, 1, 5, 1, 2, 3)))
	f.Add(withCRC(append(snapHeader(9), 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f)))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := readSnap(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		// Whatever decodes re-encodes (to the same bytes: every field
		// is a canonical uvarint) and decodes equal.
		enc := encodeSnapshot(t, s)
		if !bytes.Equal(enc, data) {
			t.Fatalf("re-encoding differs: %x vs %x", enc, data)
		}
		again, err := readSnap(enc)
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip: %v %+v vs %+v", err, again, s)
		}
	})
}
