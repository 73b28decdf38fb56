package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"
)

// mapEngine is a reference engine for the harness's own tests.
type mapEngine struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMapEngine() *mapEngine { return &mapEngine{m: map[string][]byte{}} }

func (e *mapEngine) Get(k []byte) ([]byte, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.m[string(k)]
	return slices.Clone(v), ok, nil
}
func (e *mapEngine) Put(k, v []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[string(k)] = slices.Clone(v)
	return nil
}
func (e *mapEngine) PutDurable(k, v []byte) error { return e.Put(k, v) }
func (e *mapEngine) Delete(k []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, string(k))
	return nil
}
func (e *mapEngine) Scan(start []byte, n int) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := 0
	for k := range e.m {
		if k >= string(start) {
			c++
		}
	}
	return min(c, n), nil
}
func (e *mapEngine) Sync() error          { return nil }
func (e *mapEngine) Size() (int64, error) { return 0, nil }
func (e *mapEngine) Close() error         { return nil }

// TestAdapters checks every engine adapter against a model: a few hundred
// puts, durable puts, overwrites, deletes, gets and scans.
func TestAdapters(t *testing.T) {
	for _, spec := range engines {
		t.Run(spec.name, func(t *testing.T) {
			dir := t.TempDir()
			e, err := spec.open(Options{Dir: dir, CacheBytes: 8 << 20, Clients: 2})
			if err != nil {
				t.Fatal(err)
			}
			model := map[string][]byte{}
			rng := rand.New(rand.NewPCG(11, 12))
			for i := 0; i < 400; i++ {
				k := keyName(nil, int64(rng.IntN(300)))
				v := []byte(fmt.Sprintf("value-%d-%d", i, rng.IntN(1000)))
				var err error
				switch {
				case i%10 == 9:
					err = e.Delete(k)
					delete(model, string(k))
				case i%10 == 5:
					err = e.PutDurable(k, v)
					model[string(k)] = slices.Clone(v)
				default:
					err = e.Put(k, v)
					model[string(k)] = slices.Clone(v)
				}
				if err != nil {
					t.Fatalf("op %d: %v", i, err)
				}
				v[0] = 'X' // the engine must not have retained the caller's slice
			}
			for i := 0; i < 300; i++ {
				k := keyName(nil, int64(i))
				got, ok, err := e.Get(k)
				if err != nil {
					t.Fatal(err)
				}
				want, wok := model[string(k)]
				if ok != wok || !bytes.Equal(got, want) {
					t.Fatalf("Get(%s) = %q,%v; want %q,%v", k, got, ok, want, wok)
				}
			}
			keys := make([]string, 0, len(model))
			for k := range model {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, start := range []string{"", "user3", "user5", "user9", "zzz"} {
				for _, n := range []int{1, 7, 100} {
					i := sort.SearchStrings(keys, start)
					want := min(n, len(keys)-i)
					got, err := e.Scan([]byte(start), n)
					if err != nil || got != want {
						t.Fatalf("Scan(%q, %d) = %d, %v; want %d", start, n, got, err, want)
					}
				}
			}
			if err := e.Sync(); err != nil {
				t.Fatal(err)
			}
			if sz, err := e.Size(); err != nil || sz <= 0 {
				t.Fatalf("Size = %d, %v", sz, err)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			// Reopen (durable this time): everything written is still there.
			e, err = spec.open(Options{Dir: dir, CacheBytes: 8 << 20, Durable: true, Clients: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			for i := 0; i < 300; i++ {
				k := keyName(nil, int64(i))
				got, ok, err := e.Get(k)
				want, wok := model[string(k)]
				if err != nil || ok != wok || !bytes.Equal(got, want) {
					t.Fatalf("after reopen, Get(%s) = %q,%v,%v; want %q,%v", k, got, ok, err, want, wok)
				}
			}
			if err := e.PutDurable([]byte("k"), []byte("v")); err != nil {
				t.Fatal(err)
			}
			if v, ok, err := e.Get([]byte("k")); err != nil || !ok || string(v) != "v" {
				t.Fatalf("Get after PutDurable = %q, %v, %v", v, ok, err)
			}
		})
	}
}

// TestEndToEnd runs load, every workload and durable writes briefly on every
// engine through the same code paths as the command, then checks that the
// loaded values read back.
func TestEndToEnd(t *testing.T) {
	for _, spec := range engines {
		t.Run(spec.name, func(t *testing.T) {
			e, err := spec.open(Options{Dir: t.TempDir(), CacheBytes: 8 << 20, Clients: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			st := &state{valueSize: 100}
			if r := load(e, st, 300, 2, 1); r.Err != nil {
				t.Fatal(r.Err)
			}
			for i := 0; i < 300; i++ {
				v, ok, err := e.Get(keyName(nil, int64(i)))
				if err != nil || !ok || len(v) != 100 {
					t.Fatalf("key %d after load: %d bytes, %v, %v", i, len(v), ok, err)
				}
			}
			for i := range ycsb {
				r := runWorkload(e, &ycsb[i], st, 2, time.Hour, 300, 3)
				if r.Err != nil || r.Ops != 300 {
					t.Fatalf("workload %s: %d ops, %v", ycsb[i].Name, r.Ops, r.Err)
				}
				if r.NotFound != 0 {
					t.Fatalf("workload %s: %d reads missed", ycsb[i].Name, r.NotFound)
				}
			}
			if r := durableWrites(e, 300, 100, 4, time.Millisecond, 1); r.Err != nil || r.Ops == 0 {
				t.Fatalf("durable writes: %d ops, %v", r.Ops, r.Err)
			}
		})
	}
}

func TestDirSize(t *testing.T) {
	d := t.TempDir()
	if err := os.WriteFile(d+"/f", make([]byte, 10000), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := dirSize(d); err != nil || n < 10000 {
		t.Fatalf("dirSize = %d, %v", n, err)
	}
}
