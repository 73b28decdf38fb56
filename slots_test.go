package sled_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/testutil"
)

// TestReturnedSlicesOutliveEviction: every slice the API returns stays
// what it was after the page it came from is evicted and the memory of
// its node reused (tree I13, pagecache P17). Nodes read from disk live in
// arena slots that are reused two epochs after eviction; a returned slice
// that aliased one would change under the caller (with -tags invariants a
// returned slot is also poisoned). The cache is tiny, so every page is
// read in, evicted and its slot reused many times while the slices are
// held.
func TestReturnedSlicesOutliveEviction(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	db, err := sled.Config{Path: t.TempDir(), CacheCapacityBytes: 1 << 20}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 4000
	key := func(i int) []byte { return []byte(fmt.Sprintf("key%06d", i)) }
	val := func(i, gen int) []byte {
		v := make([]byte, 200)
		binary.LittleEndian.PutUint64(v, uint64(i))
		binary.LittleEndian.PutUint64(v[8:], uint64(gen))
		for j := 16; j < len(v); j++ {
			v[j] = byte(i + j + gen)
		}
		return v
	}
	gen := make([]int, n)
	for i := range n {
		if _, err := db.Insert(key(i), val(i, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	type held struct {
		what      string
		got, want []byte
	}
	var hold []held
	keep := func(what string, got, want []byte) {
		hold = append(hold, held{what, got, append([]byte(nil), want...)})
	}
	churn := func() {
		for range 300 {
			i := rng.IntN(n)
			if _, err := db.Get(key(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for round := range 40 {
		// Keys from n/2 on: PopMin takes the smallest keys, never these.
		i := n/2 + rng.IntN(n/2-10)
		v, err := db.Get(key(i))
		if err != nil {
			t.Fatal(err)
		}
		keep("Get", v, val(i, gen[i]))
		it := db.Range(key(i), key(i+5))
		for j := i; it.Next(); j++ {
			keep("Iterator.Key", it.Key(), key(j))
			keep("Iterator.Value", it.Value(), val(j, gen[j]))
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
		k, v, err := db.GetGT(key(i))
		if err != nil {
			t.Fatal(err)
		}
		keep("GetGT key", k, key(i+1))
		keep("GetGT value", v, val(i+1, gen[i+1]))
		churn()
		old, err := db.Insert(key(i+2), val(i+2, gen[i+2]+1))
		if err != nil {
			t.Fatal(err)
		}
		keep("Insert old", old, val(i+2, gen[i+2]))
		gen[i+2]++
		churn()
		var seen []byte
		if _, err := db.Update(key(i+3), func(old []byte) []byte {
			seen = old
			return val(i+3, gen[i+3]+1)
		}); err != nil {
			t.Fatal(err)
		}
		keep("Update's old", seen, val(i+3, gen[i+3]))
		gen[i+3]++
		if round%10 == 9 {
			k, v, err := db.PopMin()
			if err != nil || k == nil {
				t.Fatalf("PopMin: %q, %v", k, err)
			}
			keep("PopMin value", v, val(int(binary.LittleEndian.Uint64(v)), 0))
		}
		churn()
	}
	for range 20 {
		churn()
	}
	st := db.Stats()
	if st.Evictions < 1000 || (slotsExpected() && st.NodeSlotMapped == 0) {
		t.Fatalf("the churn did not evict read-in pages: %d evictions, %d slot bytes", st.Evictions, st.NodeSlotBytes)
	}
	for _, h := range hold {
		if !bytes.Equal(h.got, h.want) {
			t.Fatalf("%s changed after eviction: %x..., want %x...", h.what, head(h.got), head(h.want))
		}
	}
	t.Logf("%d slices held over %d evictions (%d bytes of read-in nodes resident at the end)", len(hold), st.Evictions, st.NodeSlotBytes)
}

func head(b []byte) []byte { return b[:min(len(b), 24)] }

// TestIteratorsOverDiskLeaves: iterators over leaves read from disk, which
// live in arena slots: with leaves of hundreds of entries, a forward scan
// reads a slot leaf in copied runs and resumes it only while the page
// holds the node it first read (tree I14), and a backward one gets parts
// of leaves and goes on from a part's start by a search; each must see
// every key once, in order, whatever the run. Point reads put the leaves
// in slots first.
func TestIteratorsOverDiskLeaves(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 4))
	dir := t.TempDir()
	cfg := sled.Config{Path: dir, NodeMaxEntries: 1024, CacheCapacityBytes: 64 << 20}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	const n = 6000
	key := func(i int) []byte { return []byte(fmt.Sprintf("k%06d", i*3)) }
	for i := range n {
		if _, err := db.Insert(key(i), key(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = cfg.Open(); err != nil { // every leaf is read from disk again
		t.Fatal(err)
	}
	defer db.Close()
	for i := range n {
		if v, err := db.Get(key(i)); err != nil || !bytes.Equal(v, key(i)) {
			t.Fatalf("Get(%q) = %q, %v", key(i), v, err)
		}
	}
	scan := func(it *sled.Iterator, from, to, step int) {
		t.Helper()
		defer it.Close()
		i := from
		for it.Next() {
			if i == to || !bytes.Equal(it.Key(), key(i)) || !bytes.Equal(it.Value(), key(i)) {
				t.Fatalf("scan %d..%d: entry %q=%q at %d", from, to, it.Key(), it.Value(), i)
			}
			i += step
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		if i != to {
			t.Fatalf("scan %d..%d ended at %d", from, to, i)
		}
	}
	scan(db.Iter(), 0, n, 1)
	scan(db.Iter().Rev(), n-1, -1, -1)
	for range 50 {
		lo := rng.IntN(n)
		hi := lo + rng.IntN(n-lo+1)
		scan(db.Range(key(lo), key(hi)), lo, hi, 1)
		scan(db.Range(key(lo), key(hi)).Rev(), hi-1, lo-1, -1)
	}
	if st := db.Stats(); slotsExpected() && st.NodeSlotBytes == 0 {
		t.Fatal("no leaf was read into a slot")
	}
}

// TestScansAcrossEvictionsAndWrites: a forward scan reads a leaf read from
// disk in runs of copied entries, pinning once per run; between runs the
// leaf may be evicted (its slot reused), rewritten or split, and the scan
// must then seek on from its last key instead of reading the old node
// (tree I14). Between the steps of each scan, reads over the whole key
// space churn a cache far smaller than the data, and writes insert,
// overwrite and delete keys around the scan. Every scan must return keys in
// strict order; every key present and untouched for the whole scan, with
// its value; and for a touched key only a value it had during the scan.
// Reading a node whose slot was reused returns other pages' keys (with
// -tags invariants, poison), so a scan that resumed without the identity
// check fails here.
func TestScansAcrossEvictionsAndWrites(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 5))
	dir := t.TempDir()
	cfg := sled.Config{Path: dir, NodeMaxEntries: 1024, CacheCapacityBytes: 256 << 10}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	const n = 6000
	key := func(i int) []byte { return []byte(fmt.Sprintf("k%06d", i*2)) }
	val := func(i, gen int) []byte { return []byte(fmt.Sprintf("v%06d.%d.%080d", i*2, gen, 0)) }
	model := map[string][]byte{}
	for i := range n {
		if _, err := db.Insert(key(i), val(i, 0)); err != nil {
			t.Fatal(err)
		}
		model[string(key(i))] = val(i, 0)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = cfg.Open(); err != nil { // every leaf is read from disk again
		t.Fatal(err)
	}
	defer db.Close()
	gen := 0
	for s := range 8 {
		lo := rng.IntN(n)
		// had: every value a key had during this scan (nil: absent).
		had := map[string][][]byte{}
		touch := func(k string, v []byte) {
			if _, ok := had[k]; !ok {
				had[k] = [][]byte{model[k]}
			}
			had[k] = append(had[k], v)
			if v == nil {
				delete(model, k)
			} else {
				model[k] = v
			}
		}
		start := map[string][]byte{}
		for k, v := range model {
			if k >= string(key(lo)) {
				start[k] = v
			}
		}
		it := db.Range(key(lo), nil)
		var last []byte
		seen := 0
		for it.Next() {
			k, v := it.Key(), it.Value()
			if last != nil && bytes.Compare(k, last) <= 0 {
				t.Fatalf("scan %d (seed %d): key %q after %q", s, seed, k, last)
			}
			last = k
			if vs, ok := had[string(k)]; ok {
				if !slices.ContainsFunc(vs, func(x []byte) bool { return x != nil && bytes.Equal(x, v) }) {
					t.Fatalf("scan %d (seed %d): touched key %q = %q, never its value", s, seed, k, head(v))
				}
			} else if want, ok := start[string(k)]; !ok || !bytes.Equal(v, want) {
				t.Fatalf("scan %d (seed %d): key %q = %q, want %q (present %v)", s, seed, k, head(v), head(want), ok)
			}
			delete(start, string(k))
			seen++
			switch r := rng.IntN(10); {
			case r < 3: // churn: page-ins evict the scan's leaf and reuse slots
				for range 12 {
					if _, err := db.Get(key(rng.IntN(n))); err != nil {
						t.Fatal(err)
					}
				}
			case r < 5: // write near the scan: a new key, an overwrite or a delete
				i := rng.IntN(n)
				if d := rng.IntN(64); rng.IntN(2) == 0 {
					if j, err := strconv.Atoi(string(k[1:])); err == nil {
						i = min(n-1, j/2+d)
					}
				}
				gen++
				switch rng.IntN(3) {
				case 0:
					nk := append(key(i), 'x')
					if _, err := db.Insert(nk, val(i, gen)); err != nil {
						t.Fatal(err)
					}
					touch(string(nk), val(i, gen))
				case 1:
					if _, err := db.Insert(key(i), val(i, gen)); err != nil {
						t.Fatal(err)
					}
					touch(string(key(i)), val(i, gen))
				default:
					if _, err := db.Remove(key(i)); err != nil {
						t.Fatal(err)
					}
					touch(string(key(i)), nil)
				}
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		for k := range start {
			if _, ok := had[k]; !ok {
				t.Fatalf("scan %d (seed %d): untouched key %q missed (%d seen)", s, seed, k, seen)
			}
		}
	}
	if st := db.Stats(); st.Evictions == 0 {
		t.Fatal("no eviction: the cache holds the data, and the test wants scans to outlive their leaves")
	}
}
