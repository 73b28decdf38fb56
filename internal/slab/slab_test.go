package slab

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/sledgo/sled/internal/invariants"
)

func TestClasses(t *testing.T) {
	for i := 1; i < len(sizes); i++ {
		if sizes[i] <= sizes[i-1] {
			t.Fatalf("sizes not ascending at %d: %v", i, sizes)
		}
		if waste := sizes[i] - sizes[i-1] - 1; 4*waste > sizes[i] {
			t.Fatalf("class %d wastes up to %d of %d bytes", sizes[i], waste, sizes[i])
		}
	}
	for _, n := range []int{1, 255, 256, 257, 320, 1000, 4096, 4097, MaxSlot - 1, MaxSlot} {
		s := SlotBytes(n)
		if s < n || s < MinSlot || s > MaxSlot {
			t.Fatalf("SlotBytes(%d) = %d", n, s)
		}
	}
	if SlotBytes(0) != 0 || SlotBytes(MaxSlot+1) != 0 {
		t.Fatal("sizes outside the classes have a slot")
	}
}

func TestGetPutAccounting(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" {
		t.Skip("no anonymous mappings")
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	a := New()
	defer a.Release()
	type held struct {
		b    []byte
		fill byte
	}
	var live []held
	var want int64
	for i := range 20000 {
		if len(live) > 0 && r.IntN(2) == 0 {
			j := r.IntN(len(live))
			h := live[j]
			// Nothing else wrote into a slot while it was handed out.
			if !bytes.Equal(h.b, bytes.Repeat([]byte{h.fill}, len(h.b))) {
				t.Fatalf("op %d: a live slot of %d bytes was overwritten", i, len(h.b))
			}
			a.Put(h.b)
			want -= int64(cap(h.b))
			live[j] = live[len(live)-1]
			live = live[:len(live)-1]
		} else {
			n := 1 + r.IntN(MaxSlot)
			b := a.Get(n)
			if len(b) != n || cap(b) != SlotBytes(n) {
				t.Fatalf("Get(%d): len %d cap %d, want cap %d", n, len(b), cap(b), SlotBytes(n))
			}
			f := byte(i)
			for k := range b {
				b[k] = f
			}
			live = append(live, held{b, f})
			want += int64(cap(b))
		}
		if a.InUse() != want {
			t.Fatalf("op %d: InUse %d, want %d", i, a.InUse(), want)
		}
	}
	if a.Mapped() < a.InUse() {
		t.Fatalf("Mapped %d < InUse %d", a.Mapped(), a.InUse())
	}
	if a.Get(MaxSlot+1) != nil || a.Get(0) != nil {
		t.Fatal("a request outside the classes got a slot")
	}
}

// A steady state of gets and puts reuses slots: the mapped bytes stay
// near the peak of what is in use, not the total ever handed out.
func TestReuseBoundsMapped(t *testing.T) {
	a := New()
	defer a.Release()
	var held [][]byte
	for range 100 {
		for range 64 {
			held = append(held, a.Get(4000))
		}
		for _, b := range held {
			a.Put(b)
		}
		held = held[:0]
	}
	if a.Mapped() == 0 {
		t.Skip("no anonymous mappings")
	}
	if peak := int64(64 * SlotBytes(4000)); a.Mapped() > peak+minChunk {
		t.Fatalf("mapped %d bytes for a peak of %d in use", a.Mapped(), peak)
	}
	if a.Gets() != 6400 {
		t.Fatalf("Gets %d", a.Gets())
	}
}

func TestConcurrent(t *testing.T) {
	a := New()
	defer a.Release()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 2))
			var mine [][]byte
			for i := range 5000 {
				if len(mine) > 8 || (len(mine) > 0 && r.IntN(2) == 0) {
					b := mine[len(mine)-1]
					if b[0] != byte(g) || b[len(b)-1] != byte(g) {
						t.Errorf("goroutine %d: a slot it holds was written by another", g)
						return
					}
					a.Put(b)
					mine = mine[:len(mine)-1]
					continue
				}
				b := a.Get(1 + (i*977)%8192)
				if b == nil {
					continue
				}
				b[0], b[len(b)-1] = byte(g), byte(g)
				mine = append(mine, b)
			}
			for _, b := range mine {
				a.Put(b)
			}
		}()
	}
	wg.Wait()
	if a.InUse() != 0 {
		t.Fatalf("InUse %d after every slot came back", a.InUse())
	}
}

// With assertions on, a returned slot is poisoned and a second Put fails.
func TestPoisonAndDoublePut(t *testing.T) {
	if !invariants.Enabled {
		t.Skip("needs -tags invariants")
	}
	a := New()
	defer a.Release()
	b := a.Get(1000)
	if b == nil {
		t.Skip("no anonymous mappings")
	}
	for i := range b {
		b[i] = 1
	}
	a.Put(b)
	if b[0] != poison || b[999] != poison {
		t.Fatalf("a returned slot keeps its bytes: %x %x", b[0], b[999])
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a second Put of one slot passed")
		}
	}()
	a.Put(b)
}
