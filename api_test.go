package sled_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sledgo/sled"
)

// guard is the failure guard of every wait in these tests; it is never an
// assertion about timing.
const guard = 10 * time.Second

// openTest opens a temporary database with tiny nodes (frequent splits and
// merges). Cleanup verifies the tree invariants and page accounting with
// Check, then closes. Tests that close the database themselves use closeDB.
func openTest(t testing.TB) *sled.DB {
	t.Helper()
	return openCfg(t, sled.Config{Temporary: true, NodeMaxEntries: 4})
}

var closedByTest sync.Map // *sled.DB -> struct{}

func openCfg(t testing.TB, cfg sled.Config) *sled.DB {
	t.Helper()
	db, err := cfg.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if _, ok := closedByTest.Load(db); !ok {
			if err := db.Check(); err != nil {
				t.Errorf("Check at cleanup: %v", err)
			}
		}
		if err := db.Close(); err != nil {
			t.Errorf("Close at cleanup: %v", err)
		}
	})
	return db
}

// closeDB checks and closes db inside a test.
func closeDB(t testing.TB, db *sled.DB) {
	t.Helper()
	if err := db.Check(); err != nil {
		t.Errorf("Check before Close: %v", err)
	}
	closedByTest.Store(db, struct{}{})
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func b(s string) []byte { return []byte(s) }

func key(i int) []byte { return []byte(fmt.Sprintf("k%06d", i)) }

func mustInsert(t testing.TB, tr *sled.Tree, k, v []byte) {
	t.Helper()
	if _, err := tr.Insert(k, v); err != nil {
		t.Fatalf("Insert(%q): %v", k, err)
	}
}

func mustGet(t testing.TB, tr *sled.Tree, k []byte) []byte {
	t.Helper()
	v, err := tr.Get(k)
	if err != nil {
		t.Fatalf("Get(%q): %v", k, err)
	}
	return v
}

type kv struct{ k, v string }

// collect drains it, failing on error, and checks Close.
func collect(t testing.TB, it *sled.Iterator) []kv {
	t.Helper()
	var out []kv
	for it.Next() {
		k, v := it.Key(), it.Value()
		if k == nil || v == nil {
			t.Fatalf("iterator returned nil key %v or value %v", k == nil, v == nil)
		}
		out = append(out, kv{string(k), string(v)})
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterator Err: %v", err)
	}
	if err := it.Close(); err != nil {
		t.Fatalf("iterator Close: %v", err)
	}
	return out
}

func keysOf(kvs []kv) []string {
	out := make([]string, len(kvs))
	for i, e := range kvs {
		out[i] = e.k
	}
	return out
}

func dump(t testing.TB, tr *sled.Tree) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, e := range collect(t, tr.Iter()) {
		m[e.k] = e.v
	}
	return m
}

func checkLen(t testing.TB, tr *sled.Tree, want int) {
	t.Helper()
	n, err := tr.Len()
	if err != nil || n != want {
		t.Fatalf("Len = %d, %v; want %d", n, err, want)
	}
}

// ---------------------------------------------------------------- basics

func TestGetInsertRemoveNilVsEmpty(t *testing.T) {
	db := openTest(t)

	if v := mustGet(t, db.Tree, b("absent")); v != nil {
		t.Fatalf("Get absent = %q, want nil", v)
	}
	if ok, err := db.ContainsKey(b("absent")); ok || err != nil {
		t.Fatalf("ContainsKey absent = %v, %v", ok, err)
	}

	cases := []struct {
		name string
		key  []byte
		val  []byte
		want []byte
	}{
		{"empty value", b("e"), []byte{}, []byte{}},
		{"nil value stored as empty", b("n"), nil, []byte{}},
		{"empty key", []byte{}, b("ek"), b("ek")},
		{"nil key is the empty key", nil, b("nk"), b("nk")},
		{"binary", []byte{0, 0xff, 0}, []byte{0xff, 0}, []byte{0xff, 0}},
		{"0xff key", b("\xff\xff\xff"), b("max"), b("max")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := db.Insert(c.key, c.val); err != nil {
				t.Fatal(err)
			}
			v := mustGet(t, db.Tree, c.key)
			if v == nil || !bytes.Equal(v, c.want) {
				t.Fatalf("Get = %q (nil=%v), want %q non-nil", v, v == nil, c.want)
			}
			if ok, err := db.ContainsKey(c.key); !ok || err != nil {
				t.Fatalf("ContainsKey = %v, %v", ok, err)
			}
		})
	}
	// The empty key and nil key are the same key.
	if v := mustGet(t, db.Tree, []byte{}); string(v) != "nk" {
		t.Fatalf("Get(empty) = %q, want nk", v)
	}

	// Insert returns previous values; nil when absent; non-nil empty.
	prev, err := db.Insert(b("p"), b("1"))
	if err != nil || prev != nil {
		t.Fatalf("Insert new: prev %q, %v", prev, err)
	}
	prev, err = db.Insert(b("p"), b("2"))
	if err != nil || string(prev) != "1" {
		t.Fatalf("Insert overwrite: prev %q, %v", prev, err)
	}
	prev, err = db.Insert(b("e"), b("x"))
	if err != nil || prev == nil || len(prev) != 0 {
		t.Fatalf("Insert over empty value: prev %q (nil=%v), %v", prev, prev == nil, err)
	}

	// Remove returns previous value / nil.
	prev, err = db.Remove(b("p"))
	if err != nil || string(prev) != "2" {
		t.Fatalf("Remove: prev %q, %v", prev, err)
	}
	prev, err = db.Remove(b("p"))
	if err != nil || prev != nil {
		t.Fatalf("Remove absent: prev %q, %v", prev, err)
	}
	prev, err = db.Remove(b("n"))
	if err != nil || prev == nil || len(prev) != 0 {
		t.Fatalf("Remove of empty value: prev %q (nil=%v), %v", prev, prev == nil, err)
	}
	if v := mustGet(t, db.Tree, b("n")); v != nil {
		t.Fatalf("Get after Remove = %q", v)
	}
	prev, err = db.Remove(nil)
	if err != nil || string(prev) != "nk" {
		t.Fatalf("Remove empty key: prev %q, %v", prev, err)
	}
	if ok, _ := db.ContainsKey(nil); ok {
		t.Fatal("empty key still present")
	}
}

func TestSlicesOwnership(t *testing.T) {
	db := openTest(t)
	k, v := b("key"), b("value")
	mustInsert(t, db.Tree, k, v)
	k[0], v[0] = 'X', 'X'
	if got := mustGet(t, db.Tree, b("key")); string(got) != "value" {
		t.Fatalf("stored value changed by caller's mutation: %q", got)
	}
	if got := mustGet(t, db.Tree, b("Xey")); got != nil {
		t.Fatalf("stored key changed by caller's mutation")
	}

	// Returned slices stay valid and unchanged after later writes.
	got := mustGet(t, db.Tree, b("key"))
	for i := 0; i < 200; i++ {
		mustInsert(t, db.Tree, key(i), bytes.Repeat(b("z"), 10))
	}
	mustInsert(t, db.Tree, b("key"), b("VALUE"))
	prev, _ := db.Remove(b("key"))
	if string(got) != "value" || string(prev) != "VALUE" {
		t.Fatalf("returned slices changed: %q %q", got, prev)
	}
	fk, fv, _ := db.First()
	itk := []string{}
	it := db.Iter()
	var held [][]byte
	for it.Next() {
		held = append(held, it.Key(), it.Value())
		itk = append(itk, string(it.Key()))
	}
	it.Close()
	for i := 0; i < 200; i++ {
		mustInsert(t, db.Tree, key(i), bytes.Repeat(b("y"), 10))
	}
	if string(fk) != string(key(0)) || string(fv) != "zzzzzzzzzz" {
		t.Fatalf("First's slices changed: %q %q", fk, fv)
	}
	for i := 0; i < len(held); i += 2 {
		if string(held[i]) != itk[i/2] || string(held[i+1]) != "zzzzzzzzzz" {
			t.Fatalf("iterator slices changed at %d: %q=%q", i/2, held[i], held[i+1])
		}
	}

	// Batch copies its inputs.
	var bt sled.Batch
	bk, bv := b("bk"), b("bv")
	bt.Insert(bk, bv)
	rk := b("k000001")
	bt.Remove(rk)
	bk[0], bv[0], rk[0] = 'X', 'X', 'X'
	if err := db.ApplyBatch(&bt); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, db.Tree, b("bk")); string(got) != "bv" {
		t.Fatalf("batch value = %q", got)
	}
	if got := mustGet(t, db.Tree, b("k000001")); got != nil {
		t.Fatalf("batch remove used mutated key")
	}

	// CAS, Update and Merge copy their inputs.
	ck, cn := b("cas"), b("new")
	if err := db.CompareAndSwap(ck, nil, cn); err != nil {
		t.Fatal(err)
	}
	ck[0], cn[0] = 'X', 'X'
	if got := mustGet(t, db.Tree, b("cas")); string(got) != "new" {
		t.Fatalf("CAS value = %q", got)
	}
	uv := b("upd")
	if _, err := db.Update(b("u"), func([]byte) []byte { return uv }); err != nil {
		t.Fatal(err)
	}
	uv[0] = 'X'
	if got := mustGet(t, db.Tree, b("u")); string(got) != "upd" {
		t.Fatalf("Update value = %q", got)
	}
	db.SetMergeOperator(func(_, old, op []byte) []byte { return op })
	mv := b("mrg")
	if _, err := db.Merge(b("m"), mv); err != nil {
		t.Fatal(err)
	}
	mv[0] = 'X'
	if got := mustGet(t, db.Tree, b("m")); string(got) != "mrg" {
		t.Fatalf("Merge value = %q", got)
	}
}

// ---------------------------------------------------------------- CAS

func TestCompareAndSwap(t *testing.T) {
	db := openTest(t)
	type step struct {
		name        string
		old, new    []byte
		wantErr     bool
		wantCurrent []byte // on mismatch
		after       []byte // stored value afterwards (nil = absent)
	}
	steps := []step{
		{"absent expects absent, sets", nil, b("a"), false, nil, b("a")},
		{"absent expected but present", nil, b("b"), true, b("a"), b("a")},
		{"wrong old", b("x"), b("b"), true, b("a"), b("a")},
		{"right old", b("a"), b("b"), false, nil, b("b")},
		{"empty old vs non-empty", []byte{}, b("c"), true, b("b"), b("b")},
		{"set empty value", b("b"), []byte{}, false, nil, []byte{}},
		{"nil old vs empty value", nil, b("d"), true, []byte{}, []byte{}},
		{"empty old matches empty", []byte{}, b("e"), false, nil, b("e")},
		{"new nil deletes", b("e"), nil, false, nil, nil},
		{"delete absent mismatch", b("e"), nil, true, nil, nil},
		{"empty old vs absent", []byte{}, b("f"), true, nil, nil},
		{"absent to absent (nil,nil)", nil, nil, false, nil, nil},
		{"absent to empty", nil, []byte{}, false, nil, []byte{}},
	}
	k := b("k")
	for _, s := range steps {
		err := db.CompareAndSwap(k, s.old, s.new)
		if s.wantErr {
			var ce *sled.CompareAndSwapError
			if !errors.As(err, &ce) {
				t.Fatalf("%s: err = %v, want *CompareAndSwapError", s.name, err)
			}
			if !bytes.Equal(ce.Current, s.wantCurrent) || (ce.Current == nil) != (s.wantCurrent == nil) {
				t.Fatalf("%s: Current = %q (nil=%v), want %q (nil=%v)", s.name, ce.Current, ce.Current == nil, s.wantCurrent, s.wantCurrent == nil)
			}
			if !bytes.Equal(ce.Proposed, s.new) || (ce.Proposed == nil) != (s.new == nil) {
				t.Fatalf("%s: Proposed = %q, want %q", s.name, ce.Proposed, s.new)
			}
			if ce.Error() == "" {
				t.Fatalf("%s: empty Error()", s.name)
			}
		} else if err != nil {
			t.Fatalf("%s: err = %v", s.name, err)
		}
		got := mustGet(t, db.Tree, k)
		if !bytes.Equal(got, s.after) || (got == nil) != (s.after == nil) {
			t.Fatalf("%s: value = %q (nil=%v), want %q (nil=%v)", s.name, got, got == nil, s.after, s.after == nil)
		}
	}
	// The empty key works with CAS too.
	if err := db.CompareAndSwap(nil, nil, b("x")); err != nil {
		t.Fatal(err)
	}
	if err := db.CompareAndSwap([]byte{}, b("x"), b("y")); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, db.Tree, nil); string(got) != "y" {
		t.Fatalf("empty key CAS = %q", got)
	}
}

// ---------------------------------------------------------------- Update

func TestUpdateAndFetchAndUpdate(t *testing.T) {
	db := openTest(t)
	var sawNil, sawOld bool
	v, err := db.Update(b("k"), func(old []byte) []byte {
		sawNil = old == nil
		return b("1")
	})
	if err != nil || string(v) != "1" || !sawNil {
		t.Fatalf("Update absent: %q, %v, fn saw nil: %v", v, err, sawNil)
	}
	v, err = db.Update(b("k"), func(old []byte) []byte {
		sawOld = string(old) == "1"
		return append(append([]byte{}, old...), '2')
	})
	if err != nil || string(v) != "12" || !sawOld {
		t.Fatalf("Update present: %q, %v, %v", v, err, sawOld)
	}
	old, err := db.FetchAndUpdate(b("k"), func(old []byte) []byte { return b("3") })
	if err != nil || string(old) != "12" {
		t.Fatalf("FetchAndUpdate: %q, %v", old, err)
	}
	if got := mustGet(t, db.Tree, b("k")); string(got) != "3" {
		t.Fatalf("after FetchAndUpdate: %q", got)
	}
	// nil deletes: Update returns nil, FetchAndUpdate returns the old value.
	v, err = db.Update(b("k"), func([]byte) []byte { return nil })
	if err != nil || v != nil {
		t.Fatalf("Update to nil: %q, %v", v, err)
	}
	if got := mustGet(t, db.Tree, b("k")); got != nil {
		t.Fatalf("Update nil did not delete: %q", got)
	}
	old, err = db.FetchAndUpdate(b("k"), func(o []byte) []byte { return nil })
	if err != nil || old != nil {
		t.Fatalf("FetchAndUpdate nil on absent: %q, %v", old, err)
	}
	old, err = db.FetchAndUpdate(b("k"), func(o []byte) []byte {
		if o != nil {
			t.Errorf("fn got %q for absent key", o)
		}
		return []byte{}
	})
	if err != nil || old != nil {
		t.Fatalf("FetchAndUpdate absent->empty: %q, %v", old, err)
	}
	old, err = db.FetchAndUpdate(b("k"), func(o []byte) []byte {
		if o == nil || len(o) != 0 {
			t.Errorf("fn got %q (nil=%v), want non-nil empty", o, o == nil)
		}
		return nil
	})
	if err != nil || old == nil || len(old) != 0 {
		t.Fatalf("FetchAndUpdate empty->delete: %q (nil=%v), %v", old, old == nil, err)
	}
	if ok, _ := db.ContainsKey(b("k")); ok {
		t.Fatal("key still present")
	}
	// Update returning an empty value on an absent key stores non-nil empty.
	v, err = db.Update(b("e"), func([]byte) []byte { return []byte{} })
	if err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Update to empty: %q (nil=%v), %v", v, v == nil, err)
	}
	// Counter with Update from many goroutines: no lost updates.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := db.Update(b("ctr"), incr); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := mustGet(t, db.Tree, b("ctr")); binary.BigEndian.Uint64(got) != 1600 {
		t.Fatalf("counter = %d, want 1600", binary.BigEndian.Uint64(got))
	}
}

func incr(old []byte) []byte {
	var n uint64
	if len(old) == 8 {
		n = binary.BigEndian.Uint64(old)
	}
	return binary.BigEndian.AppendUint64(nil, n+1)
}

// ---------------------------------------------------------------- Merge

func TestMerge(t *testing.T) {
	db := openTest(t)
	if _, err := db.Merge(b("k"), b("1")); !errors.Is(err, sled.ErrNoMergeOperator) {
		t.Fatalf("Merge without operator: %v", err)
	}
	if got := mustGet(t, db.Tree, b("k")); got != nil {
		t.Fatal("Merge without operator wrote")
	}
	// A counter: operand is a big-endian delta; result 0 deletes.
	db.SetMergeOperator(func(k, old, operand []byte) []byte {
		var n int64
		if len(old) == 8 {
			n = int64(binary.BigEndian.Uint64(old))
		}
		n += int64(binary.BigEndian.Uint64(operand))
		if n == 0 {
			return nil
		}
		return binary.BigEndian.AppendUint64(nil, uint64(n))
	})
	delta := func(d int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(d)) }
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if _, err := db.Merge(b("ctr"), delta(1)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := mustGet(t, db.Tree, b("ctr")); int64(binary.BigEndian.Uint64(got)) != 800 {
		t.Fatalf("counter = %d", int64(binary.BigEndian.Uint64(got)))
	}
	v, err := db.Merge(b("ctr"), delta(-800))
	if err != nil || v != nil {
		t.Fatalf("Merge to zero: %q, %v", v, err)
	}
	if ok, _ := db.ContainsKey(b("ctr")); ok {
		t.Fatal("nil merge result did not delete")
	}
	// The operator sees the key and nil for an absent key.
	db.SetMergeOperator(func(k, old, operand []byte) []byte {
		if old == nil {
			return append(append([]byte{}, k...), operand...)
		}
		return append(append([]byte{}, old...), operand...)
	})
	v, err = db.Merge(b("a"), b("-x"))
	if err != nil || string(v) != "a-x" {
		t.Fatalf("Merge = %q, %v", v, err)
	}
	v, err = db.Merge(b("a"), b("-y"))
	if err != nil || string(v) != "a-x-y" {
		t.Fatalf("Merge = %q, %v", v, err)
	}
	// Per-tree operator.
	other, err := db.OpenTree("other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Merge(b("a"), b("1")); !errors.Is(err, sled.ErrNoMergeOperator) {
		t.Fatalf("operator leaked to another tree: %v", err)
	}
	// Unset.
	db.SetMergeOperator(nil)
	if _, err := db.Merge(b("a"), b("1")); !errors.Is(err, sled.ErrNoMergeOperator) {
		t.Fatalf("after unset: %v", err)
	}
}

// ---------------------------------------------------------------- seeks

func TestGetLTGTFirstLastEmptyTree(t *testing.T) {
	db := openTest(t)
	checks := map[string]func() ([]byte, []byte, error){
		"First":      db.First,
		"Last":       db.Last,
		"GetLT(x)":   func() ([]byte, []byte, error) { return db.GetLT(b("x")) },
		"GetGT(x)":   func() ([]byte, []byte, error) { return db.GetGT(b("x")) },
		"GetLT(nil)": func() ([]byte, []byte, error) { return db.GetLT(nil) },
		"GetGT(nil)": func() ([]byte, []byte, error) { return db.GetGT(nil) },
		"PopMin":     db.PopMin,
		"PopMax":     db.PopMax,
	}
	for name, f := range checks {
		k, v, err := f()
		if k != nil || v != nil || err != nil {
			t.Errorf("%s on empty tree = %q, %q, %v", name, k, v, err)
		}
	}
	if e, err := db.IsEmpty(); !e || err != nil {
		t.Fatalf("IsEmpty = %v, %v", e, err)
	}
	checkLen(t, db.Tree, 0)
}

func TestGetLTGTFirstLast(t *testing.T) {
	for _, withEmpty := range []bool{false, true} {
		t.Run(fmt.Sprintf("emptyKey=%v", withEmpty), func(t *testing.T) {
			db := openTest(t)
			keys := []string{"a", "b", "b\x00", "ba", "c", "m", "z", "\xff", "\xff\xff", "\xff\xff\x00"}
			for i := 0; i < 40; i++ {
				keys = append(keys, fmt.Sprintf("n%02d", i))
			}
			if withEmpty {
				keys = append(keys, "")
			}
			sort.Strings(keys)
			for _, k := range keys {
				mustInsert(t, db.Tree, b(k), b("v"+k))
			}
			ltRef := func(q string) (string, bool) {
				i := sort.SearchStrings(keys, q)
				if i == 0 {
					return "", false
				}
				return keys[i-1], true
			}
			gtRef := func(q string) (string, bool) {
				i := sort.SearchStrings(keys, q)
				if i < len(keys) && keys[i] == q {
					i++
				}
				if i == len(keys) {
					return "", false
				}
				return keys[i], true
			}
			queries := append([]string{"", "\x00", "0", "a\x00", "b\x00\x00", "n", "n05x", "zz", "\xfe", "\xff\xff\xff", "\xff\xff\x00\x00"}, keys...)
			for _, q := range queries {
				k, v, err := db.GetLT(b(q))
				want, ok := ltRef(q)
				if err != nil || (k != nil) != ok || (ok && (string(k) != want || string(v) != "v"+want)) {
					t.Errorf("GetLT(%q) = %q,%q,%v; want %q,%v", q, k, v, err, want, ok)
				}
				k, v, err = db.GetGT(b(q))
				want, ok = gtRef(q)
				if err != nil || (k != nil) != ok || (ok && (string(k) != want || string(v) != "v"+want)) {
					t.Errorf("GetGT(%q) = %q,%q,%v; want %q,%v", q, k, v, err, want, ok)
				}
			}
			// GetGT(nil) is GetGT(empty key).
			k, _, err := db.GetGT(nil)
			if want, _ := gtRef(""); err != nil || string(k) != want {
				t.Errorf("GetGT(nil) = %q, %v; want %q", k, err, want)
			}
			if k, _, _ := db.GetLT(nil); k != nil {
				t.Errorf("GetLT(nil) = %q, want none (nil is the empty key)", k)
			}
			k, v, err := db.First()
			if err != nil || k == nil || string(k) != keys[0] || string(v) != "v"+keys[0] {
				t.Errorf("First = %q,%q,%v; want %q", k, v, err, keys[0])
			}
			k, v, err = db.Last()
			if err != nil || string(k) != keys[len(keys)-1] || string(v) != "v"+keys[len(keys)-1] {
				t.Errorf("Last = %q,%q,%v", k, v, err)
			}
			if withEmpty && (k == nil) {
				t.Errorf("Last nil")
			}
		})
	}
}

func TestSeeksAfterDeletesAcrossLeaves(t *testing.T) {
	db := openTest(t)
	for i := 0; i < 300; i++ {
		mustInsert(t, db.Tree, key(i), b("v"))
	}
	// Remove a long run in the middle, so empty/merged leaves sit between.
	for i := 50; i < 250; i++ {
		if _, err := db.Remove(key(i)); err != nil {
			t.Fatal(err)
		}
	}
	k, _, err := db.GetGT(key(50))
	if err != nil || string(k) != string(key(250)) {
		t.Fatalf("GetGT over hole = %q, %v", k, err)
	}
	k, _, err = db.GetLT(key(249))
	if err != nil || string(k) != string(key(49)) {
		t.Fatalf("GetLT over hole = %q, %v", k, err)
	}
	checkLen(t, db.Tree, 100)
}

// ---------------------------------------------------------------- PopMin/Max

func TestPopMinMaxUntilEmpty(t *testing.T) {
	for _, mode := range []string{"min", "max", "alternate"} {
		t.Run(mode, func(t *testing.T) {
			db := openTest(t)
			const n = 500
			perm := rand.Perm(n)
			for _, i := range perm {
				mustInsert(t, db.Tree, key(i), key(i))
			}
			mustInsert(t, db.Tree, nil, b("emptykey"))
			lo, hi := -1, n-1 // -1 stands for the empty key
			for step := 0; lo <= hi; step++ {
				useMin := mode == "min" || (mode == "alternate" && step%2 == 0)
				var k, v []byte
				var err error
				var want []byte
				if useMin {
					k, v, err = db.PopMin()
					if lo == -1 {
						want = []byte{}
					} else {
						want = key(lo)
					}
					lo++
				} else {
					k, v, err = db.PopMax()
					if hi == -1 {
						want = []byte{}
					} else {
						want = key(hi)
					}
					hi--
				}
				if err != nil || k == nil || !bytes.Equal(k, want) {
					t.Fatalf("step %d: pop = %q, %v; want %q", step, k, err, want)
				}
				if len(want) == 0 {
					if string(v) != "emptykey" {
						t.Fatalf("empty key value %q", v)
					}
				} else if !bytes.Equal(v, want) {
					t.Fatalf("value %q, want %q", v, want)
				}
				if got := mustGet(t, db.Tree, k); got != nil {
					t.Fatalf("popped key %q still present", k)
				}
			}
			for _, f := range []func() ([]byte, []byte, error){db.PopMin, db.PopMax} {
				if k, v, err := f(); k != nil || v != nil || err != nil {
					t.Fatalf("pop on emptied tree = %q %q %v", k, v, err)
				}
			}
			checkLen(t, db.Tree, 0)
			if err := db.Check(); err != nil {
				t.Fatal(err)
			}
			// Reuse after emptying.
			mustInsert(t, db.Tree, b("again"), b("1"))
			if k, _, _ := db.PopMax(); string(k) != "again" {
				t.Fatalf("pop after reuse = %q", k)
			}
		})
	}
}

func TestPopMinConcurrentUnique(t *testing.T) {
	db := openTest(t)
	const n = 2000
	for i := 0; i < n; i++ {
		mustInsert(t, db.Tree, key(i), nil)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var last []byte
			for {
				var k []byte
				var err error
				if g%2 == 0 {
					k, _, err = db.PopMin()
				} else {
					k, _, err = db.PopMax()
				}
				if err != nil {
					t.Error(err)
					return
				}
				if k == nil {
					return
				}
				if last != nil && g%2 == 0 && bytes.Compare(k, last) <= 0 {
					t.Errorf("PopMin went backwards: %q after %q", k, last)
				}
				if last != nil && g%2 == 1 && bytes.Compare(k, last) >= 0 {
					t.Errorf("PopMax went forwards: %q after %q", k, last)
				}
				last = k
				mu.Lock()
				seen[string(k)]++
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("popped %d distinct keys, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("key %q popped %d times", k, c)
		}
	}
	checkLen(t, db.Tree, 0)
}

// ---------------------------------------------------------------- iterators

func TestIterRangeScanPrefix(t *testing.T) {
	db := openTest(t)
	all := []string{"", "\x00", "a", "ab", "abc", "abd", "ac", "b", "ba", "bb", "c",
		"\xfe", "\xfe\xff", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\x00", "\xff\xff\xff"}
	for i := 0; i < 30; i++ {
		all = append(all, fmt.Sprintf("m%02d", i))
	}
	sort.Strings(all)
	for _, k := range all {
		v := "v" + k
		if k == "ab" {
			v = "" // an empty value
		}
		mustInsert(t, db.Tree, b(k), b(v))
	}
	between := func(lo, hi *string) []string {
		var out []string
		for _, k := range all {
			if (lo == nil || k >= *lo) && (hi == nil || k < *hi) {
				out = append(out, k)
			}
		}
		return out
	}
	sp := func(s string) *string { return &s }
	bs := func(s *string) []byte {
		if s == nil {
			return nil
		}
		return []byte(*s)
	}
	ranges := []struct {
		name   string
		lo, hi *string
	}{
		{"unbounded", nil, nil},
		{"lo only", sp("b"), nil},
		{"hi only", nil, sp("b")},
		{"inclusive lo exclusive hi", sp("ab"), sp("b")},
		{"empty lo", sp(""), sp("a")},
		{"empty range lo==hi", sp("b"), sp("b")},
		{"lo > hi", sp("c"), sp("a")},
		{"no keys inside", sp("bc"), sp("bz")},
		{"0xff bounds", sp("\xff"), sp("\xff\xff\x00")},
		{"hi beyond all", sp("m10"), sp("\xff\xff\xff\xff")},
		{"hi empty", nil, sp("")},
	}
	for _, r := range ranges {
		t.Run(r.name, func(t *testing.T) {
			want := between(r.lo, r.hi)
			got := keysOf(collect(t, db.Range(bs(r.lo), bs(r.hi))))
			if !slices.Equal(got, want) {
				t.Fatalf("forward = %q, want %q", got, want)
			}
			got = keysOf(collect(t, db.Range(bs(r.lo), bs(r.hi)).Rev()))
			rw := slices.Clone(want)
			slices.Reverse(rw)
			if !slices.Equal(got, rw) {
				t.Fatalf("reverse = %q, want %q", got, rw)
			}
		})
	}
	if got := keysOf(collect(t, db.Iter())); !slices.Equal(got, all) {
		t.Fatalf("Iter = %q", got)
	}
	rev := keysOf(collect(t, db.Iter().Rev()))
	ra := slices.Clone(all)
	slices.Reverse(ra)
	if !slices.Equal(rev, ra) {
		t.Fatalf("Iter().Rev() = %q", rev)
	}
	// Values come with their keys; the empty value is non-nil.
	for _, e := range collect(t, db.Iter()) {
		want := "v" + e.k
		if e.k == "ab" {
			want = ""
		}
		if e.v != want {
			t.Fatalf("value of %q = %q", e.k, e.v)
		}
	}

	prefixes := []string{"", "a", "ab", "abc", "abz", "m1", "\xfe", "\xff", "\xff\xff", "\xff\xff\xff", "\xff\xff\xff\xff", "zzz"}
	for _, p := range prefixes {
		var want []string
		for _, k := range all {
			if strings.HasPrefix(k, p) {
				want = append(want, k)
			}
		}
		got := keysOf(collect(t, db.ScanPrefix(b(p))))
		if !slices.Equal(got, want) {
			t.Errorf("ScanPrefix(%q) = %q, want %q", p, got, want)
		}
		got = keysOf(collect(t, db.ScanPrefix(b(p)).Rev()))
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Errorf("ScanPrefix(%q).Rev() = %q, want %q", p, got, want)
		}
	}
	if got := keysOf(collect(t, db.ScanPrefix(nil))); !slices.Equal(got, all) {
		t.Errorf("ScanPrefix(nil) = %q", got)
	}
}

func TestIteratorLifecycle(t *testing.T) {
	db := openTest(t)
	for i := 0; i < 20; i++ {
		mustInsert(t, db.Tree, key(i), b("v"))
	}
	// Empty tree iterator.
	empty, _ := db.OpenTree("empty")
	it := empty.Iter()
	if it.Next() || it.Key() != nil || it.Value() != nil || it.Err() != nil {
		t.Fatal("iterator over empty tree")
	}
	it = empty.Iter().Rev()
	if it.Next() || it.Err() != nil {
		t.Fatal("reverse iterator over empty tree")
	}

	// Key/Value before the first Next, after exhaustion, after Close.
	it = db.Range(key(3), key(5))
	if it.Key() != nil || it.Value() != nil {
		t.Fatal("Key/Value before Next not nil")
	}
	n := 0
	for it.Next() {
		n++
	}
	if n != 2 {
		t.Fatalf("range gave %d", n)
	}
	if it.Next() || it.Next() {
		t.Fatal("Next true after exhaustion")
	}
	if it.Key() != nil || it.Value() != nil || it.Err() != nil {
		t.Fatalf("after exhaustion Key %q Value %q Err %v", it.Key(), it.Value(), it.Err())
	}
	for i := 0; i < 3; i++ {
		if err := it.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i, err)
		}
	}
	// Close in the middle.
	it = db.Iter()
	if !it.Next() {
		t.Fatal("no first entry")
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if it.Next() {
		t.Fatal("Next true after Close")
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	// Close before any Next.
	it = db.Iter()
	if err := it.Close(); err != nil || it.Next() {
		t.Fatal("Close before Next")
	}
}

func TestIterateWhileWriting(t *testing.T) {
	for _, rev := range []bool{false, true} {
		t.Run(fmt.Sprintf("rev=%v", rev), func(t *testing.T) {
			db := openTest(t)
			const n = 600
			// Even keys are stable; odd keys are churned by a writer.
			for i := 0; i < n; i += 2 {
				mustInsert(t, db.Tree, key(i), b("stable"))
			}
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				r := rand.New(rand.NewPCG(1, 2))
				for {
					select {
					case <-stop:
						return
					default:
					}
					i := r.IntN(n/2)*2 + 1
					var err error
					if r.IntN(2) == 0 {
						_, err = db.Insert(key(i), b("churn"))
					} else {
						_, err = db.Remove(key(i))
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
			for round := 0; round < 20; round++ {
				it := db.Iter()
				if rev {
					it.Rev()
				}
				var prev []byte
				stable := 0
				for it.Next() {
					k := it.Key()
					if prev != nil {
						c := bytes.Compare(k, prev)
						if (!rev && c <= 0) || (rev && c >= 0) {
							t.Fatalf("round %d: order broken: %q after %q", round, k, prev)
						}
					}
					prev = k
					var i int
					fmt.Sscanf(string(k), "k%06d", &i)
					if i%2 == 0 {
						if string(it.Value()) != "stable" {
							t.Fatalf("stable key %q has value %q", k, it.Value())
						}
						stable++
					}
				}
				if err := it.Err(); err != nil {
					t.Fatal(err)
				}
				it.Close()
				if stable != n/2 {
					t.Fatalf("round %d: saw %d stable keys, want %d", round, stable, n/2)
				}
			}
			close(stop)
			select {
			case <-done:
			case <-time.After(guard):
				t.Fatal("writer did not stop")
			}
		})
	}
}

// ---------------------------------------------------------------- Len/Clear

func TestLenIsEmptyClear(t *testing.T) {
	db := openTest(t)
	checkLen(t, db.Tree, 0)
	mustInsert(t, db.Tree, nil, nil)
	checkLen(t, db.Tree, 1)
	if e, err := db.IsEmpty(); e || err != nil {
		t.Fatalf("IsEmpty with only the empty key = %v, %v", e, err)
	}
	for i := 0; i < 2000; i++ {
		mustInsert(t, db.Tree, key(i), b("v"))
	}
	checkLen(t, db.Tree, 2001)
	mustInsert(t, db.Tree, key(5), b("again"))
	checkLen(t, db.Tree, 2001)
	if _, err := db.Remove(key(5)); err != nil {
		t.Fatal(err)
	}
	checkLen(t, db.Tree, 2000)

	other, _ := db.OpenTree("other")
	mustInsert(t, other, b("keep"), b("me"))

	if err := db.Clear(); err != nil {
		t.Fatal(err)
	}
	checkLen(t, db.Tree, 0)
	if e, err := db.IsEmpty(); !e || err != nil {
		t.Fatalf("IsEmpty after Clear = %v, %v", e, err)
	}
	if k, _, _ := db.First(); k != nil {
		t.Fatalf("First after Clear = %q", k)
	}
	if err := db.Check(); err != nil {
		t.Fatalf("Check after Clear: %v", err)
	}
	if got := mustGet(t, other, b("keep")); string(got) != "me" {
		t.Fatal("Clear touched another tree")
	}
	// Clear of an empty tree.
	if err := db.Clear(); err != nil {
		t.Fatal(err)
	}
	// Reuse.
	for i := 0; i < 500; i++ {
		mustInsert(t, db.Tree, key(i), b("w"))
	}
	checkLen(t, db.Tree, 500)
	if got := keysOf(collect(t, db.Range(key(10), key(13)))); len(got) != 3 {
		t.Fatalf("range after reuse = %q", got)
	}
}

// ---------------------------------------------------------------- batches

func TestApplyBatch(t *testing.T) {
	db := openTest(t)
	mustInsert(t, db.Tree, b("gone"), b("x"))
	mustInsert(t, db.Tree, b("over"), b("old"))

	var bt sled.Batch
	if err := db.ApplyBatch(&bt); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	if bt.Len() != 0 {
		t.Fatal("Len of empty batch")
	}
	for i := 0; i < 100; i++ {
		bt.Insert(key(i), b("b"))
	}
	bt.Remove(b("gone"))
	bt.Insert(b("over"), b("new"))
	bt.Insert(b("lww"), b("1"))
	bt.Insert(b("lww"), b("2"))
	bt.Insert(b("rm-then-ins"), b("x"))
	bt.Remove(b("rm-then-ins"))
	bt.Remove(b("ins-after-rm"))
	bt.Insert(b("ins-after-rm"), b("y"))
	bt.Insert(nil, nil)
	bt.Remove(b("absent"))
	if bt.Len() != 110 {
		t.Fatalf("batch Len = %d", bt.Len())
	}
	if err := db.ApplyBatch(&bt); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"over": "new", "lww": "2", "ins-after-rm": "y", "": ""}
	for i := 0; i < 100; i++ {
		want[string(key(i))] = "b"
	}
	if got := dump(t, db.Tree); !mapsEqual(got, want) {
		t.Fatalf("after batch: %d entries, diff %v", len(got), diff(got, want))
	}
	if v := mustGet(t, db.Tree, nil); v == nil {
		t.Fatal("batch empty key/value not stored as non-nil")
	}

	// Oversized key anywhere: ErrKeyTooLarge, nothing applied.
	var bad sled.Batch
	bad.Insert(b("new1"), b("v"))
	bad.Remove(b("over"))
	bad.Insert(make([]byte, sled.MaxKeyBytes+1), b("v"))
	bad.Insert(b("new2"), b("v"))
	if err := db.ApplyBatch(&bad); !errors.Is(err, sled.ErrKeyTooLarge) {
		t.Fatalf("oversized key in batch: %v", err)
	}
	var bad2 sled.Batch
	bad2.Insert(b("new1"), b("v"))
	bad2.Remove(make([]byte, sled.MaxKeyBytes+1))
	if err := db.ApplyBatch(&bad2); !errors.Is(err, sled.ErrKeyTooLarge) {
		t.Fatalf("oversized key in batch Remove: %v", err)
	}
	if got := dump(t, db.Tree); !mapsEqual(got, want) {
		t.Fatalf("failed batch changed the tree: %v", diff(got, want))
	}

	// A batch can be applied to another tree and again.
	other, _ := db.OpenTree("other")
	var small sled.Batch
	small.Insert(b("a"), b("1"))
	if err := other.ApplyBatch(&small); err != nil {
		t.Fatal(err)
	}
	if err := other.ApplyBatch(&small); err != nil {
		t.Fatal(err)
	}
	checkLen(t, other, 1)
}

func TestApplyBatchAtomicVisibility(t *testing.T) {
	db := openTest(t)
	const n = 40
	// Batch g writes generation g to every key, key(0) first. With atomic
	// batches, reading key(0) and then key(n-1) can never see key(n-1)
	// older than key(0); a torn batch would show exactly that.
	gen := func(v []byte) int {
		if v == nil {
			return -1
		}
		var g int
		fmt.Sscan(string(v), &g)
		return g
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for g := 0; ; g++ {
			select {
			case <-stop:
				return
			default:
			}
			var bt sled.Batch
			for i := 0; i < n; i++ {
				bt.Insert(key(i), []byte(fmt.Sprint(g)))
			}
			if err := db.ApplyBatch(&bt); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	deadline := time.Now().Add(500 * time.Millisecond)
	reads := 0
	for time.Now().Before(deadline) {
		first := gen(mustGet(t, db.Tree, key(0)))
		last := gen(mustGet(t, db.Tree, key(n-1)))
		if last < first {
			t.Fatalf("torn batch: key(0) at generation %d, then key(%d) at %d", first, n-1, last)
		}
		reads++
	}
	close(stop)
	wg.Wait()
	t.Logf("%d read pairs", reads)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func diff(got, want map[string]string) []string {
	var out []string
	for k, v := range got {
		if w, ok := want[k]; !ok || w != v {
			out = append(out, fmt.Sprintf("got %q=%q", k, v))
		}
	}
	for k, w := range want {
		if v, ok := got[k]; !ok || v != w {
			out = append(out, fmt.Sprintf("want %q=%q", k, w))
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], "...")
	}
	return out
}

// ---------------------------------------------------------------- limits

func TestLimits(t *testing.T) {
	db := openTest(t)
	mustInsert(t, db.Tree, b("present"), b("v"))
	big := bytes.Repeat([]byte{'K'}, sled.MaxKeyBytes+1)
	max := bytes.Repeat([]byte{'K'}, sled.MaxKeyBytes)
	db.SetMergeOperator(func(_, _, op []byte) []byte { return op })

	ops := map[string]func() error{
		"Get":            func() error { _, err := db.Get(big); return err },
		"ContainsKey":    func() error { _, err := db.ContainsKey(big); return err },
		"Insert":         func() error { _, err := db.Insert(big, b("v")); return err },
		"Remove":         func() error { _, err := db.Remove(big); return err },
		"CAS":            func() error { return db.CompareAndSwap(big, nil, b("v")) },
		"CAS delete":     func() error { return db.CompareAndSwap(big, b("v"), nil) },
		"Update":         func() error { _, err := db.Update(big, func([]byte) []byte { return b("v") }); return err },
		"FetchAndUpdate": func() error { _, err := db.FetchAndUpdate(big, func([]byte) []byte { return b("v") }); return err },
		"Merge":          func() error { _, err := db.Merge(big, b("v")); return err },
		"GetLT":          func() error { _, _, err := db.GetLT(big); return err },
		"GetGT":          func() error { _, _, err := db.GetGT(big); return err },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, sled.ErrKeyTooLarge) {
			t.Errorf("%s with key of MaxKeyBytes+1: %v, want ErrKeyTooLarge", name, err)
		}
	}
	if got := dump(t, db.Tree); len(got) != 1 || got["present"] != "v" {
		t.Fatalf("oversized-key ops changed the tree: %v", got)
	}

	// Keys of exactly MaxKeyBytes work, several of them (each is larger
	// than a node's byte budget, so nodes split on bytes).
	for i := 0; i < 6; i++ {
		k := slices.Clone(max)
		k[len(k)-1] = byte('0' + i)
		mustInsert(t, db.Tree, k, []byte{byte(i)})
	}
	for i := 0; i < 6; i++ {
		k := slices.Clone(max)
		k[len(k)-1] = byte('0' + i)
		if v := mustGet(t, db.Tree, k); !bytes.Equal(v, []byte{byte(i)}) {
			t.Fatalf("max key %d value %v", i, v)
		}
	}
	if err := db.CompareAndSwap(max, nil, b("m")); err != nil {
		t.Fatal(err)
	}
	if k, _, err := db.GetGT(max); err != nil || string(k) != "present" {
		t.Fatalf("GetGT(max key) = %d bytes, %v", len(k), err)
	}
	if k, _, err := db.GetLT(max); err != nil || len(k) != sled.MaxKeyBytes || k[len(k)-1] != '5' {
		t.Fatalf("GetLT(max key) = %d bytes, %v", len(k), err)
	}

	// Values.
	huge := make([]byte, sled.MaxValueBytes+1)
	if _, err := db.Insert(b("present"), huge); !errors.Is(err, sled.ErrValueTooLarge) {
		t.Errorf("Insert huge: %v", err)
	}
	if err := db.CompareAndSwap(b("present"), b("v"), huge); !errors.Is(err, sled.ErrValueTooLarge) {
		t.Errorf("CAS huge: %v", err)
	}
	if _, err := db.Update(b("present"), func([]byte) []byte { return huge }); !errors.Is(err, sled.ErrValueTooLarge) {
		t.Errorf("Update huge: %v", err)
	}
	if _, err := db.FetchAndUpdate(b("present"), func([]byte) []byte { return huge }); !errors.Is(err, sled.ErrValueTooLarge) {
		t.Errorf("FetchAndUpdate huge: %v", err)
	}
	if _, err := db.Merge(b("present"), huge); !errors.Is(err, sled.ErrValueTooLarge) {
		t.Errorf("Merge huge operand: %v", err)
	}
	db.SetMergeOperator(func(_, _, _ []byte) []byte { return huge })
	if _, err := db.Merge(b("present"), b("x")); !errors.Is(err, sled.ErrValueTooLarge) {
		t.Errorf("Merge with huge result: %v", err)
	}
	var bt sled.Batch
	bt.Insert(b("new"), b("v"))
	bt.Insert(b("present"), huge)
	if err := db.ApplyBatch(&bt); !errors.Is(err, sled.ErrValueTooLarge) {
		t.Errorf("batch huge: %v", err)
	}
	if got := mustGet(t, db.Tree, b("present")); string(got) != "v" {
		t.Fatalf("oversized value ops changed present: %d bytes", len(got))
	}
	if got := mustGet(t, db.Tree, b("new")); got != nil {
		t.Fatal("failed batch applied a write")
	}

	// A 1 MiB value round trip (also next to small ones in a tiny node).
	mib := make([]byte, 1<<20)
	for i := range mib {
		mib[i] = byte(i * 7)
	}
	mustInsert(t, db.Tree, b("mib"), mib)
	mustInsert(t, db.Tree, b("mia"), b("small"))
	mustInsert(t, db.Tree, b("mic"), mib[:1000])
	if got := mustGet(t, db.Tree, b("mib")); !bytes.Equal(got, mib) {
		t.Fatal("1 MiB value differs")
	}
	prev, err := db.Remove(b("mib"))
	if err != nil || !bytes.Equal(prev, mib) {
		t.Fatal("1 MiB value Remove")
	}
}

// ---------------------------------------------------------------- trees

func TestMultipleTrees(t *testing.T) {
	db := openTest(t)
	if db.Name() != sled.DefaultTreeName {
		t.Fatalf("default tree name %q", db.Name())
	}
	names := db.TreeNames()
	if !slices.Equal(names, []string{sled.DefaultTreeName}) {
		t.Fatalf("TreeNames of a new db = %q", names)
	}
	a1, err := db.OpenTree("a")
	if err != nil {
		t.Fatal(err)
	}
	if a1.Name() != "a" {
		t.Fatalf("Name = %q", a1.Name())
	}
	mustInsert(t, a1, b("k"), b("in a"))
	a2, err := db.OpenTree("a")
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, a2, b("k")); string(got) != "in a" {
		t.Fatalf("second OpenTree sees %q", got)
	}
	z, _ := db.OpenTree("z")
	empty, err := db.OpenTree("")
	if err != nil {
		t.Fatalf("OpenTree(\"\"): %v", err)
	}
	mustInsert(t, z, b("k"), b("in z"))
	mustInsert(t, db.Tree, b("k"), b("in default"))
	mustInsert(t, empty, b("k"), b("in empty-named"))
	for tr, want := range map[*sled.Tree]string{a1: "in a", z: "in z", db.Tree: "in default", empty: "in empty-named"} {
		if got := mustGet(t, tr, b("k")); string(got) != want {
			t.Fatalf("tree %q: %q, want %q", tr.Name(), got, want)
		}
	}
	dt, err := db.OpenTree(sled.DefaultTreeName)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, dt, b("k")); string(got) != "in default" {
		t.Fatalf("OpenTree(DefaultTreeName) sees %q", got)
	}
	names = db.TreeNames()
	want := []string{"", sled.DefaultTreeName, "a", "z"}
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("TreeNames = %q, want %q", names, want)
	}
	if st := db.Stats(); st.Trees != 4 {
		t.Fatalf("Stats.Trees = %d", st.Trees)
	}
	if _, err := db.OpenTree(strings.Repeat("x", sled.MaxTreeNameBytes+1)); err == nil {
		t.Fatal("OpenTree with an oversized name succeeded")
	}

	// DropTree.
	for i := 0; i < 100; i++ {
		mustInsert(t, a1, key(i), b("v"))
	}
	sub := a1.WatchPrefix(nil)
	if err := db.DropTree("a"); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-sub.Events():
		if ok {
			t.Fatal("event after drop")
		}
	case <-time.After(guard):
		t.Fatal("DropTree did not close the subscriber's channel")
	}
	if err := db.DropTree("a"); !errors.Is(err, sled.ErrTreeNotFound) {
		t.Fatalf("second DropTree: %v", err)
	}
	if err := db.DropTree("never"); !errors.Is(err, sled.ErrTreeNotFound) {
		t.Fatalf("DropTree absent: %v", err)
	}
	if err := db.DropTree(sled.DefaultTreeName); err == nil {
		t.Fatal("DropTree(default) succeeded")
	}
	if got := mustGet(t, db.Tree, b("k")); string(got) != "in default" {
		t.Fatal("default tree damaged by DropTree(default)")
	}
	if slices.Contains(db.TreeNames(), "a") {
		t.Fatal("dropped tree still listed")
	}
	checkDroppedHandle(t, a1)
	checkDroppedHandle(t, a2)
	if err := db.Check(); err != nil {
		t.Fatalf("Check after DropTree: %v", err)
	}

	a3, err := db.OpenTree("a")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := a3.Len(); n != 0 || err != nil {
		t.Fatalf("recreated tree Len = %d, %v", n, err)
	}
	mustInsert(t, a3, b("new"), b("1"))
	checkDroppedHandle(t, a1) // the old handle stays dead
	if err := db.DropTree(""); err != nil {
		t.Fatal(err)
	}
}

func checkDroppedHandle(t *testing.T, tr *sled.Tree) {
	t.Helper()
	tr.SetMergeOperator(func(_, _, op []byte) []byte { return op })
	var bt sled.Batch
	bt.Insert(b("x"), b("y"))
	ops := map[string]func() error{
		"Get":            func() error { _, err := tr.Get(b("k")); return err },
		"ContainsKey":    func() error { _, err := tr.ContainsKey(b("k")); return err },
		"Insert":         func() error { _, err := tr.Insert(b("k"), b("v")); return err },
		"Remove":         func() error { _, err := tr.Remove(b("k")); return err },
		"CAS":            func() error { return tr.CompareAndSwap(b("k"), nil, b("v")) },
		"Update":         func() error { _, err := tr.Update(b("k"), func([]byte) []byte { return b("v") }); return err },
		"FetchAndUpdate": func() error { _, err := tr.FetchAndUpdate(b("k"), func([]byte) []byte { return nil }); return err },
		"Merge":          func() error { _, err := tr.Merge(b("k"), b("v")); return err },
		"GetLT":          func() error { _, _, err := tr.GetLT(b("k")); return err },
		"GetGT":          func() error { _, _, err := tr.GetGT(b("k")); return err },
		"First":          func() error { _, _, err := tr.First(); return err },
		"Last":           func() error { _, _, err := tr.Last(); return err },
		"PopMin":         func() error { _, _, err := tr.PopMin(); return err },
		"PopMax":         func() error { _, _, err := tr.PopMax(); return err },
		"Len":            func() error { _, err := tr.Len(); return err },
		"IsEmpty":        func() error { _, err := tr.IsEmpty(); return err },
		"Clear":          func() error { return tr.Clear() },
		"ApplyBatch":     func() error { return tr.ApplyBatch(&bt) },
		"Iter":           func() error { return iterErr(tr.Iter()) },
		"Range.Rev":      func() error { return iterErr(tr.Range(nil, b("z")).Rev()) },
		"ScanPrefix":     func() error { return iterErr(tr.ScanPrefix(b("k"))) },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, sled.ErrTreeNotFound) {
			t.Errorf("%s on dropped tree %q: %v, want ErrTreeNotFound", name, tr.Name(), err)
		}
	}
	s := tr.WatchPrefix(nil)
	select {
	case _, ok := <-s.Events():
		if ok {
			t.Error("WatchPrefix on dropped tree delivered an event")
		}
	case <-time.After(guard):
		t.Error("WatchPrefix on a dropped tree: channel not closed")
	}
}

func iterErr(it *sled.Iterator) error {
	defer it.Close()
	if it.Next() {
		return errors.New("Next returned true")
	}
	if it.Key() != nil {
		return errors.New("Key not nil")
	}
	return it.Err()
}

// ---------------------------------------------------------------- subscribers

func recv(t *testing.T, s *sled.Subscriber) sled.Event {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatal("channel closed while an event was expected")
		}
		return ev
	case <-time.After(guard):
		t.Fatal("no event")
	}
	return sled.Event{}
}

func expectEvents(t *testing.T, s *sled.Subscriber, want []sled.Event) {
	t.Helper()
	for i, w := range want {
		ev := recv(t, s)
		if !bytes.Equal(ev.Key, w.Key) || ev.Deleted != w.Deleted || !bytes.Equal(ev.Value, w.Value) ||
			(ev.Value == nil) != (w.Value == nil) || ev.Key == nil {
			t.Fatalf("event %d = {%q %q(nil=%v) del=%v}, want {%q %q(nil=%v) del=%v}",
				i, ev.Key, ev.Value, ev.Value == nil, ev.Deleted, w.Key, w.Value, w.Value == nil, w.Deleted)
		}
	}
	select {
	case ev := <-s.Events():
		t.Fatalf("unexpected extra event {%q %q del=%v}", ev.Key, ev.Value, ev.Deleted)
	default:
	}
}

func set(k, v string) sled.Event { return sled.Event{Key: b(k), Value: b(v)} }
func del(k string) sled.Event    { return sled.Event{Key: b(k), Deleted: true} }

func TestWatchPrefixEvents(t *testing.T) {
	db := openTest(t)
	mustInsert(t, db.Tree, b("p/before"), b("x")) // before the subscription
	s := db.WatchPrefix(b("p/"))
	all := db.WatchPrefix(nil)
	db.SetMergeOperator(func(_, old, op []byte) []byte { return append(append([]byte{}, old...), op...) })

	mustInsert(t, db.Tree, b("p/a"), b("1"))
	mustInsert(t, db.Tree, b("q/a"), b("other")) // outside
	mustInsert(t, db.Tree, b("p"), b("short"))   // outside: shorter than prefix
	mustInsert(t, db.Tree, b("p/a"), b("2"))
	mustInsert(t, db.Tree, b("p/e"), nil)
	db.Remove(b("p/absent"))                        // no event
	db.Remove(b("p/a"))                             // delete
	db.CompareAndSwap(b("p/c"), b("wrong"), b("x")) // failed CAS: no event
	db.CompareAndSwap(b("p/c"), nil, b("c1"))       // event
	db.Update(b("p/u"), func([]byte) []byte { return b("u1") })
	db.Update(b("p/u"), func([]byte) []byte { return nil })    // delete
	db.Update(b("p/none"), func([]byte) []byte { return nil }) // absent stays absent: no event
	db.Merge(b("p/m"), b("a"))
	db.Merge(b("p/m"), b("b"))
	var bt sled.Batch
	bt.Insert(b("p/b1"), b("B1"))
	bt.Insert(b("q/b"), b("other"))
	bt.Remove(b("p/c"))
	bt.Remove(b("p/never")) // absent: no event
	if err := db.ApplyBatch(&bt); err != nil {
		t.Fatal(err)
	}
	// PopMin under the prefix: make "p/" keys the smallest of a tree.
	pt, _ := db.OpenTree("pop")
	ps := pt.WatchPrefix(b("p/"))
	mustInsert(t, pt, b("p/1"), b("one"))
	mustInsert(t, pt, b("p/2"), b("two"))
	mustInsert(t, pt, b("z"), b("zz"))
	if k, _, _ := pt.PopMin(); string(k) != "p/1" {
		t.Fatalf("PopMin = %q", k)
	}
	if k, _, _ := pt.PopMax(); string(k) != "z" {
		t.Fatalf("PopMax = %q", k)
	}
	if k, _, _ := pt.PopMax(); string(k) != "p/2" {
		t.Fatalf("PopMax = %q", k)
	}

	expectEvents(t, s, []sled.Event{
		set("p/a", "1"), set("p/a", "2"), set("p/e", ""), del("p/a"), set("p/c", "c1"),
		set("p/u", "u1"), del("p/u"), set("p/m", "a"), set("p/m", "ab"), set("p/b1", "B1"), del("p/c"),
	})
	expectEvents(t, all, []sled.Event{
		set("p/a", "1"), set("q/a", "other"), set("p", "short"), set("p/a", "2"), set("p/e", ""), del("p/a"), set("p/c", "c1"),
		set("p/u", "u1"), del("p/u"), set("p/m", "a"), set("p/m", "ab"), set("p/b1", "B1"), set("q/b", "other"), del("p/c"),
	})
	expectEvents(t, ps, []sled.Event{set("p/1", "one"), set("p/2", "two"), del("p/1"), del("p/2")})

	// Close closes the channel, is idempotent, and stops events.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, db.Tree, b("p/after"), b("x"))
	if _, ok := <-s.Events(); ok {
		t.Fatal("event after Close")
	}
	expectEvents(t, all, []sled.Event{set("p/after", "x")})

	// DB.Close closes every channel.
	closeDB(t, db)
	for _, sub := range []*sled.Subscriber{all, ps} {
		select {
		case _, ok := <-sub.Events():
			if ok {
				t.Fatal("event after DB.Close")
			}
		case <-time.After(guard):
			t.Fatal("DB.Close did not close a subscriber's channel")
		}
	}
	late := db.WatchPrefix(nil)
	select {
	case _, ok := <-late.Events():
		if ok {
			t.Fatal("event on a subscriber made after Close")
		}
	case <-time.After(guard):
		t.Fatal("WatchPrefix after Close: channel not closed")
	}
	late.Close()
}

func TestWatchPrefixPerKeyOrderConcurrent(t *testing.T) {
	db := openTest(t)
	s := db.WatchPrefix(b("c"))
	defer s.Close()
	const writers, per = 8, 200
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			k := []byte(fmt.Sprintf("c%d", g))
			for i := 0; i < per; i++ {
				if _, err := db.Insert(k, []byte(fmt.Sprint(i))); err != nil {
					t.Error(err)
					return
				}
				mustInsert(t, db.Tree, []byte(fmt.Sprintf("x%d", g)), nil) // outside
			}
		}(g)
	}
	last := map[string]int{}
	for n := 0; n < writers*per; n++ {
		ev := recv(t, s)
		var v int
		fmt.Sscan(string(ev.Value), &v)
		if p, ok := last[string(ev.Key)]; ok && v != p+1 {
			t.Fatalf("key %q: event %d after %d", ev.Key, v, p)
		} else if !ok && v != 0 {
			t.Fatalf("key %q: first event %d", ev.Key, v)
		}
		last[string(ev.Key)] = v
	}
	wg.Wait()
	select {
	case ev := <-s.Events():
		t.Fatalf("extra event %q", ev.Key)
	default:
	}
}

func TestSlowSubscriberBlocksWriter(t *testing.T) {
	db := openTest(t)
	s := db.WatchPrefix(b("p"))
	const n = sled.SubscriberBufferEvents
	filled := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if _, err := db.Insert(key(i)[1:], nil); err != nil { // "0000xx" is outside
				done <- err
				return
			}
			if _, err := db.Insert(append(b("p"), key(i)...), b("v")); err != nil {
				done <- err
				return
			}
		}
		close(filled)
		_, err := db.Insert(b("p-last"), b("v")) // the buffer is full: blocks
		done <- err
	}()
	select {
	case <-filled:
	case err := <-done:
		t.Fatalf("writer ended early: %v", err)
	case <-time.After(guard):
		t.Fatal("buffer never filled: writers blocked before the buffer was full?")
	}
	// Not a timing assertion of success: the writer must not finish while
	// nobody reads. Give it a short while to (wrongly) get through.
	select {
	case err := <-done:
		t.Fatalf("writer was not blocked by a full subscriber (err %v): events dropped?", err)
	case <-time.After(50 * time.Millisecond):
	}
	// Writers and readers of other keys are not blocked.
	other := make(chan error, 1)
	go func() {
		_, err := db.Insert(b("q-other"), b("v"))
		if err == nil {
			_, err = db.Get(b("p-last"))
		}
		other <- err
	}()
	select {
	case err := <-other:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(guard):
		t.Fatal("a write outside the prefix was blocked by a slow subscriber")
	}
	// Reading one event releases the writer.
	ev := recv(t, s)
	if string(ev.Key) != "p"+string(key(0)) {
		t.Fatalf("first event %q", ev.Key)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(guard):
		t.Fatal("writer still blocked after the subscriber read")
	}
	// Every event arrives, none dropped, the last one included.
	for i := 1; i < n; i++ {
		if ev := recv(t, s); string(ev.Key) != "p"+string(key(i)) {
			t.Fatalf("event %d = %q", i, ev.Key)
		}
	}
	if ev := recv(t, s); string(ev.Key) != "p-last" {
		t.Fatalf("last event %q", ev.Key)
	}

	// A full subscriber whose Close is called releases a blocked writer.
	for i := 0; i < n; i++ {
		mustInsert(t, db.Tree, b("p2"), nil)
	}
	blocked := make(chan error, 1)
	go func() { _, err := db.Insert(b("p3"), nil); blocked <- err }()
	select {
	case <-blocked:
		t.Fatal("writer not blocked by a full subscriber")
	case <-time.After(50 * time.Millisecond):
	}
	s.Close()
	select {
	case err := <-blocked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(guard):
		t.Fatal("Subscriber.Close did not release a blocked writer")
	}
	if got := mustGet(t, db.Tree, b("p3")); got == nil {
		t.Fatal("released write not applied")
	}
}

func TestSlowSubscriberReleasedByDBClose(t *testing.T) {
	db := openTest(t)
	s := db.WatchPrefix(nil)
	for i := 0; i < sled.SubscriberBufferEvents; i++ {
		mustInsert(t, db.Tree, key(i), nil)
	}
	blocked := make(chan error, 1)
	go func() { _, err := db.Insert(b("last"), nil); blocked <- err }()
	select {
	case <-blocked:
		t.Fatal("writer not blocked by a full subscriber")
	case <-time.After(50 * time.Millisecond):
	}
	closeDB(t, db)
	select {
	case err := <-blocked:
		if err != nil && !errors.Is(err, sled.ErrClosed) {
			t.Fatal(err)
		}
	case <-time.After(guard):
		t.Fatal("DB.Close did not release a writer blocked on a full subscriber")
	}
	// The buffered events can still be drained, then the channel is closed.
	n := 0
	timeout := time.After(guard)
	for {
		select {
		case _, ok := <-s.Events():
			if !ok {
				if n < sled.SubscriberBufferEvents {
					t.Fatalf("drained %d events", n)
				}
				return
			}
			n++
		case <-timeout:
			t.Fatal("channel not closed after DB.Close")
		}
	}
}

// ---------------------------------------------------------------- DB-level

func TestGenerateID(t *testing.T) {
	db := openTest(t)
	var prev uint64
	for i := 0; i < 1000; i++ {
		id, err := db.GenerateID()
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && id <= prev {
			t.Fatalf("id %d after %d", id, prev)
		}
		prev = id
	}
	const g, per = 8, 2000
	ids := make([][]uint64, g)
	var wg sync.WaitGroup
	for w := 0; w < g; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var last uint64
			for i := 0; i < per; i++ {
				id, err := db.GenerateID()
				if err != nil {
					t.Error(err)
					return
				}
				if id <= last && i > 0 {
					t.Errorf("goroutine %d: id %d after %d", w, id, last)
				}
				if id <= prev {
					t.Errorf("id %d not above earlier %d", id, prev)
				}
				last = id
				ids[w] = append(ids[w], id)
			}
		}(w)
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, l := range ids {
		for _, id := range l {
			if seen[id] {
				t.Fatalf("duplicate id %d", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != g*per {
		t.Fatalf("%d ids", len(seen))
	}
}

func TestChecksum(t *testing.T) {
	build := func(t *testing.T, order []int, extra func(db *sled.DB)) uint32 {
		db := openTest(t)
		other, _ := db.OpenTree("other")
		for _, i := range order {
			mustInsert(t, db.Tree, key(i), []byte(fmt.Sprint(i)))
			mustInsert(t, other, key(i), nil)
		}
		// Churn that leaves nothing behind.
		for i := 0; i < 50; i++ {
			mustInsert(t, db.Tree, b("tmp"), b("x"))
			db.Remove(b("tmp"))
		}
		if extra != nil {
			extra(db)
		}
		c, err := db.Checksum()
		if err != nil {
			t.Fatal(err)
		}
		c2, _ := db.Checksum()
		if c != c2 {
			t.Fatal("Checksum not stable")
		}
		return c
	}
	asc := make([]int, 300)
	for i := range asc {
		asc[i] = i
	}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	rnd := rand.Perm(300)
	base := build(t, asc, nil)
	if c := build(t, desc, nil); c != base {
		t.Fatalf("descending order checksum %x != %x", c, base)
	}
	if c := build(t, rnd, nil); c != base {
		t.Fatalf("random order checksum %x != %x", c, base)
	}
	variants := map[string]func(db *sled.DB){
		"value changed":   func(db *sled.DB) { db.Insert(key(7), b("changed")) },
		"key removed":     func(db *sled.DB) { db.Remove(key(7)) },
		"key added":       func(db *sled.DB) { db.Insert(b("new"), nil) },
		"empty key added": func(db *sled.DB) { db.Insert(nil, nil) },
		"extra tree":      func(db *sled.DB) { db.OpenTree("third") },
		"other tree":      func(db *sled.DB) { o, _ := db.OpenTree("other"); o.Insert(key(1), b("x")) },
		"moved to value": func(db *sled.DB) {
			// "k000007"="7" vs key "k0000077"="" style: boundaries matter.
			db.Remove(key(7))
			db.Insert(b("k0000077"), nil)
		},
	}
	for name, f := range variants {
		if c := build(t, asc, f); c == base {
			t.Errorf("%s: checksum unchanged", name)
		}
	}
}

func TestExportImport(t *testing.T) {
	src := openTest(t)
	mustInsert(t, src.Tree, nil, b("empty key"))
	mustInsert(t, src.Tree, b("ev"), nil)
	for i := 0; i < 300; i++ {
		mustInsert(t, src.Tree, key(i), bytes.Repeat([]byte{byte(i)}, i%17))
	}
	a, _ := src.OpenTree("a")
	mustInsert(t, a, nil, nil)
	mustInsert(t, a, b("\xff\xff"), b("ff"))
	src.OpenTree("empty tree")
	src.OpenTree("")
	var buf bytes.Buffer
	if err := src.Export(&buf); err != nil {
		t.Fatal(err)
	}
	srcSum, _ := src.Checksum()

	dst := openTest(t)
	mustInsert(t, dst.Tree, key(1), b("overwritten"))
	if err := dst.Import(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dst.TreeNames(), src.TreeNames()) {
		t.Fatalf("TreeNames %q vs %q", dst.TreeNames(), src.TreeNames())
	}
	if dstSum, _ := dst.Checksum(); dstSum != srcSum {
		t.Fatalf("checksum after import %x != %x", dstSum, srcSum)
	}
	for _, name := range src.TreeNames() {
		st, _ := src.OpenTree(name)
		dt, _ := dst.OpenTree(name)
		if !mapsEqual(dump(t, st), dump(t, dt)) {
			t.Fatalf("tree %q differs: %v", name, diff(dump(t, dt), dump(t, st)))
		}
	}
	if v := mustGet(t, dst.Tree, b("ev")); v == nil || len(v) != 0 {
		t.Fatalf("empty value after import: %q nil=%v", v, v == nil)
	}
	if v := mustGet(t, dst.Tree, nil); string(v) != "empty key" {
		t.Fatalf("empty key after import: %q", v)
	}
	da, _ := dst.OpenTree("a")
	if v := mustGet(t, da, nil); v == nil || len(v) != 0 {
		t.Fatalf("empty key+value in tree a: %q nil=%v", v, v == nil)
	}
	// Import into a db that has extra keys keeps them.
	dst2 := openTest(t)
	mustInsert(t, dst2.Tree, b("extra"), b("1"))
	if err := dst2.Import(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if v := mustGet(t, dst2.Tree, b("extra")); string(v) != "1" {
		t.Fatal("Import removed an existing key")
	}
	// Export of an empty db imports into an empty db.
	var eb bytes.Buffer
	if err := openTest(t).Export(&eb); err != nil {
		t.Fatal(err)
	}
	e2 := openTest(t)
	if err := e2.Import(&eb); err != nil {
		t.Fatal(err)
	}
	checkLen(t, e2.Tree, 0)
}

func TestImportCorruption(t *testing.T) {
	src := openTest(t)
	mustInsert(t, src.Tree, nil, nil)
	mustInsert(t, src.Tree, b("a"), b("1"))
	mustInsert(t, src.Tree, b("b"), b("22"))
	o, _ := src.OpenTree("o")
	mustInsert(t, o, b("x"), b("y"))
	var buf bytes.Buffer
	if err := src.Export(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	const headerLen = len("SLEDDUMP") + 1 // magic and a one-byte version

	for i := 0; i < len(good); i++ {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := slices.Clone(good)
			bad[i] ^= mask
			db := openTest(t)
			err := db.Import(bytes.NewReader(bad))
			if err == nil {
				t.Errorf("flip %#x at byte %d/%d: Import succeeded", mask, i, len(good))
				continue
			}
			if i >= len("SLEDDUMP") && i < headerLen {
				continue // the version byte: an unsupported version is a fine error
			}
			if !errors.Is(err, sled.ErrCorruption) {
				t.Errorf("flip %#x at byte %d: %v does not match ErrCorruption", mask, i, err)
			}
		}
	}
	for n := 0; n < len(good); n++ {
		db := openTest(t)
		err := db.Import(bytes.NewReader(good[:n]))
		if !errors.Is(err, sled.ErrCorruption) {
			t.Errorf("truncated to %d/%d bytes: %v, want ErrCorruption", n, len(good), err)
		}
	}
	db := openTest(t)
	if err := db.Import(bytes.NewReader(append(slices.Clone(good), 0))); !errors.Is(err, sled.ErrCorruption) {
		t.Errorf("trailing garbage: %v", err)
	}
	for _, garbage := range [][]byte{nil, b("hello world, this is not a dump"), bytes.Repeat([]byte{0xff}, 100), b("SLEDDUMP")} {
		if err := db.Import(bytes.NewReader(garbage)); err == nil {
			t.Errorf("Import(%q) succeeded", garbage)
		}
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultNodeSize(t *testing.T) {
	db := openCfg(t, sled.Config{Temporary: true})
	if db.WasRecovered() {
		t.Fatal("a new temporary db reports WasRecovered")
	}
	const n = 5000
	for _, i := range rand.Perm(n) {
		mustInsert(t, db.Tree, key(i), key(i))
	}
	checkLen(t, db.Tree, n)
	got := collect(t, db.Iter())
	for i, e := range got {
		if e.k != string(key(i)) || e.v != e.k {
			t.Fatalf("entry %d = %q", i, e.k)
		}
	}
	for i := 0; i < n; i += 2 {
		db.Remove(key(i))
	}
	checkLen(t, db.Tree, n/2)
	if k, _, _ := db.First(); string(k) != string(key(1)) {
		t.Fatalf("First = %q", k)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if sz, err := db.SizeOnDisk(); err != nil || sz < 0 {
		t.Fatalf("SizeOnDisk = %d, %v", sz, err)
	}
	if st := db.Stats(); st.Trees != 1 || st.Pages <= 0 {
		t.Fatalf("Stats = %+v", st)
	}
}

// ---------------------------------------------------------------- Close

func TestCloseThenEverythingErrClosed(t *testing.T) {
	db := openTest(t)
	tr, _ := db.OpenTree("t")
	mustInsert(t, db.Tree, b("k"), b("v"))
	mustInsert(t, tr, b("k"), b("v"))
	db.SetMergeOperator(func(_, _, op []byte) []byte { return op })
	it := db.Iter()
	if !it.Next() {
		t.Fatal("no entry")
	}
	closeDB(t, db)
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if it.Next() {
		t.Fatal("iterator opened before Close continued")
	}
	if !errors.Is(it.Err(), sled.ErrClosed) {
		t.Fatalf("pre-Close iterator Err = %v", it.Err())
	}
	var bt sled.Batch
	bt.Insert(b("x"), b("y"))
	for _, x := range []*sled.Tree{db.Tree, tr} {
		ops := map[string]func() error{
			"Get":            func() error { _, err := x.Get(b("k")); return err },
			"ContainsKey":    func() error { _, err := x.ContainsKey(b("k")); return err },
			"Insert":         func() error { _, err := x.Insert(b("k"), b("v")); return err },
			"Remove":         func() error { _, err := x.Remove(b("k")); return err },
			"CAS":            func() error { return x.CompareAndSwap(b("k"), b("v"), b("w")) },
			"Update":         func() error { _, err := x.Update(b("k"), func([]byte) []byte { return b("v") }); return err },
			"FetchAndUpdate": func() error { _, err := x.FetchAndUpdate(b("k"), func([]byte) []byte { return b("v") }); return err },
			"Merge":          func() error { _, err := x.Merge(b("k"), b("v")); return err },
			"GetLT":          func() error { _, _, err := x.GetLT(b("k")); return err },
			"GetGT":          func() error { _, _, err := x.GetGT(b("k")); return err },
			"First":          func() error { _, _, err := x.First(); return err },
			"Last":           func() error { _, _, err := x.Last(); return err },
			"PopMin":         func() error { _, _, err := x.PopMin(); return err },
			"PopMax":         func() error { _, _, err := x.PopMax(); return err },
			"Len":            func() error { _, err := x.Len(); return err },
			"IsEmpty":        func() error { _, err := x.IsEmpty(); return err },
			"Clear":          func() error { return x.Clear() },
			"ApplyBatch":     func() error { return x.ApplyBatch(&bt) },
			"Iter":           func() error { return iterErr(x.Iter()) },
			"Iter.Rev":       func() error { return iterErr(x.Iter().Rev()) },
			"Range":          func() error { return iterErr(x.Range(b("a"), b("z"))) },
			"ScanPrefix":     func() error { return iterErr(x.ScanPrefix(b("k"))) },
		}
		for name, op := range ops {
			if err := op(); !errors.Is(err, sled.ErrClosed) {
				t.Errorf("tree %q %s after Close: %v, want ErrClosed", x.Name(), name, err)
			}
		}
	}
	dbOps := map[string]func() error{
		"OpenTree":   func() error { _, err := db.OpenTree("t"); return err },
		"OpenTree2":  func() error { _, err := db.OpenTree("new"); return err },
		"DropTree":   func() error { return db.DropTree("t") },
		"Flush":      func() error { return db.Flush() },
		"GenerateID": func() error { _, err := db.GenerateID(); return err },
		"SizeOnDisk": func() error { _, err := db.SizeOnDisk(); return err },
		"Checksum":   func() error { _, err := db.Checksum(); return err },
		"Export":     func() error { return db.Export(&bytes.Buffer{}) },
		"Import":     func() error { return db.Import(bytes.NewReader(nil)) },
		"Check":      func() error { return db.Check() },
	}
	for name, op := range dbOps {
		if err := op(); !errors.Is(err, sled.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	_ = db.TreeNames() // must not panic
	_ = db.Stats()
	db.SetMergeOperator(nil) // must not panic
	if _, err := db.Merge(b("k"), b("v")); !errors.Is(err, sled.ErrClosed) {
		t.Errorf("Merge without operator after Close: %v, want ErrClosed", err)
	}
}

func TestCloseConcurrentIdempotent(t *testing.T) {
	db := openTest(t)
	mustInsert(t, db.Tree, b("k"), b("v"))
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	closedByTest.Store(db, struct{}{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- db.Close() }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	cfg := sled.Config{Path: dir, Temporary: true, NodeMaxEntries: 4}
	db1 := openCfg(t, cfg)
	mustInsert(t, db1.Tree, b("k"), b("v"))
	db2, err := cfg.Open()
	if !errors.Is(err, sled.ErrLocked) {
		if db2 != nil {
			db2.Close()
		}
		t.Fatalf("second Open of %s: %v, want ErrLocked", dir, err)
	}
	if db2 != nil {
		t.Fatal("failed Open returned a DB")
	}
	// The failed Open did not disturb the first.
	if v := mustGet(t, db1.Tree, b("k")); string(v) != "v" {
		t.Fatalf("first db sees %q", v)
	}
	if _, err := db1.SizeOnDisk(); err != nil {
		t.Fatalf("SizeOnDisk of the first db after a failed Open: %v", err)
	}
	// After Close the directory can be opened again.
	closeDB(t, db1)
	db3 := openCfg(t, cfg)
	mustInsert(t, db3.Tree, b("k"), b("v"))
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		cfg  sled.Config
		want []string // substrings, one per expected problem
	}{
		{"no path, not temporary", sled.Config{}, []string{"Path"}},
		{"negative cache", sled.Config{Temporary: true, CacheCapacityBytes: -1}, []string{"CacheCapacityBytes"}},
		{"bad mode", sled.Config{Temporary: true, Mode: sled.Mode(9)}, []string{"Mode"}},
		{"compression level", sled.Config{Temporary: true, CompressionLevel: 23}, []string{"CompressionLevel"}},
		{"negative compression level", sled.Config{Temporary: true, CompressionLevel: -1}, []string{"CompressionLevel"}},
		{"tiny segments", sled.Config{Temporary: true, SegmentSizeBytes: 1}, []string{"SegmentSizeBytes"}},
		{"negative segments", sled.Config{Temporary: true, SegmentSizeBytes: -1}, []string{"SegmentSizeBytes"}},
		{"node entries too small", sled.Config{Temporary: true, NodeMaxEntries: 3}, []string{"NodeMaxEntries"}},
		{"node entries negative", sled.Config{Temporary: true, NodeMaxEntries: -4}, []string{"NodeMaxEntries"}},
		{"several at once", sled.Config{CacheCapacityBytes: -5, Mode: -1, CompressionLevel: 99, SegmentSizeBytes: 2 << 30, NodeMaxEntries: 1 << 20},
			[]string{"Path", "CacheCapacityBytes", "Mode", "CompressionLevel", "SegmentSizeBytes", "NodeMaxEntries"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.cfg.Validate(); !errors.Is(err, sled.ErrInvalidConfig) {
				t.Fatalf("Validate: %v", err)
			}
			db, err := c.cfg.Open()
			if db != nil {
				db.Close()
				t.Fatal("Open of an invalid config returned a DB")
			}
			if !errors.Is(err, sled.ErrInvalidConfig) {
				t.Fatalf("Open: %v, want ErrInvalidConfig", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				if len(j.Unwrap()) != len(c.want) {
					t.Errorf("%d problems reported, want %d: %v", len(j.Unwrap()), len(c.want), err)
				}
				for _, e := range j.Unwrap() {
					if !errors.Is(e, sled.ErrInvalidConfig) {
						t.Errorf("problem %v does not match ErrInvalidConfig", e)
					}
				}
			} else if len(c.want) > 1 {
				t.Errorf("several problems not reported as a joined error: %v", err)
			}
		})
	}
	valid := []sled.Config{
		{Temporary: true},
		{Temporary: true, NodeMaxEntries: 4, Mode: sled.HighThroughput, CompressionLevel: 22, SegmentSizeBytes: 64 << 10},
		{Temporary: true, NodeMaxEntries: 4096, SegmentSizeBytes: 1 << 30, FlushEvery: -1},
	}
	for i, c := range valid {
		if err := c.Validate(); err != nil {
			t.Errorf("valid config %d: %v", i, err)
		}
		db := openCfg(t, c)
		mustInsert(t, db.Tree, b("k"), b("v"))
	}
	if sled.LowSpace.String() != "LowSpace" || sled.HighThroughput.String() != "HighThroughput" {
		t.Error("Mode.String")
	}
}

// ---------------------------------------------------------------- concurrency smoke

func TestConcurrencySmoke(t *testing.T) {
	db := openTest(t)
	other, _ := db.OpenTree("other")
	db.SetMergeOperator(func(_, old, op []byte) []byte {
		if len(old) > 32 {
			return nil
		}
		return append(append([]byte{}, old...), op...)
	})
	sub := db.WatchPrefix(b("k00001"))
	subDone := make(chan struct{})
	go func() {
		defer close(subDone)
		for range sub.Events() {
		}
	}()
	const keys = 64
	deadline := time.Now().Add(time.Second)
	var ops atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 99))
			for time.Now().Before(deadline) {
				k := key(r.IntN(keys))
				tr := db.Tree
				if r.IntN(8) == 0 {
					tr = other
				}
				var err error
				switch r.IntN(14) {
				case 0, 1:
					_, err = tr.Insert(k, []byte(fmt.Sprint(g)))
				case 2:
					_, err = tr.Remove(k)
				case 3:
					_, err = tr.Get(k)
				case 4:
					cur, _ := tr.Get(k)
					err = tr.CompareAndSwap(k, cur, []byte{byte(g)})
					var ce *sled.CompareAndSwapError
					if errors.As(err, &ce) {
						err = nil
					}
				case 5:
					_, err = tr.Update(k, func(old []byte) []byte {
						if old == nil {
							return b("u")
						}
						return nil
					})
				case 6:
					_, err = db.Merge(k, b("m"))
				case 7:
					_, _, err = tr.PopMin()
				case 8:
					_, _, err = tr.PopMax()
				case 9:
					var bt sled.Batch
					for j := 0; j < 5; j++ {
						if r.IntN(2) == 0 {
							bt.Insert(key(r.IntN(keys)), b("b"))
						} else {
							bt.Remove(key(r.IntN(keys)))
						}
					}
					err = tr.ApplyBatch(&bt)
				case 10:
					it := tr.Range(key(r.IntN(keys)), nil)
					if r.IntN(2) == 0 {
						it.Rev()
					}
					var prev []byte
					for it.Next() {
						if prev != nil && bytes.Equal(prev, it.Key()) {
							t.Errorf("iterator repeated %q", prev)
						}
						prev = it.Key()
					}
					err = it.Err()
					it.Close()
				case 11:
					_, _, err = tr.GetLT(k)
					if err == nil {
						_, _, err = tr.GetGT(k)
					}
				case 12:
					_, err = tr.Len()
				case 13:
					_, err = tr.FetchAndUpdate(k, func(old []byte) []byte { return append(slices.Clone(old), 'f') })
				}
				if err != nil {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
				ops.Add(1)
			}
		}(g)
	}
	wg.Wait()
	sub.Close()
	select {
	case <-subDone:
	case <-time.After(guard):
		t.Fatal("subscriber channel not closed")
	}
	if err := db.Check(); err != nil {
		t.Fatalf("Check after %d concurrent ops: %v", ops.Load(), err)
	}
	// The final state is readable and ordered.
	for _, tr := range []*sled.Tree{db.Tree, other} {
		got := keysOf(collect(t, tr.Iter()))
		if !sort.StringsAreSorted(got) {
			t.Fatal("final iteration not sorted")
		}
		checkLen(t, tr, len(got))
	}
	t.Logf("%d ops", ops.Load())
}

// TestConcurrentShrinkNoSpuriousErrors removes keys from many goroutines
// while the tree shrinks (merges, root collapse). Every Remove and PopMin
// must succeed: the writes are valid, the structure is healthy afterwards.
func TestConcurrentShrinkNoSpuriousErrors(t *testing.T) {
	db := openTest(t)
	for round := 0; round < 300; round++ {
		const n = 64
		for i := 0; i < n; i++ {
			mustInsert(t, db.Tree, key(i), nil)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := g; i < n; i += 8 {
					var err error
					op := "PopMax"
					if g%2 == 0 {
						op = "Remove"
						_, err = db.Remove(key(i))
					} else {
						_, _, err = db.PopMax()
					}
					if err == nil && g == 0 {
						op = "Get"
						_, err = db.Get(key(n - 1 - i))
					}
					if err != nil {
						applied := ""
						if op == "Remove" {
							v, gerr := db.Get(key(i))
							applied = fmt.Sprintf(" (yet the key is now absent: %v, Get err %v)", v == nil, gerr)
						}
						errs <- fmt.Errorf("round %d goroutine %d %s: %w%s", round, g, op, err, applied)
						return
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if err := db.Clear(); err != nil {
			t.Fatal(err)
		}
	}
}
