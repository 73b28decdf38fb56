package slab

import (
	"bytes"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
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
	a.SetKeep(int64(r.IntN(4 << 20))) // S4: some Puts give pages back
	t.Logf("keep %d", a.keep.Load())
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
		if i%500 == 0 {
			checkFree(t, a)
		}
		if r.IntN(300) == 0 {
			a.Trim()
		}
	}
	checkFree(t, a)
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
	a.SetKeep(0) // trims give back every idle slot they can (S4)
	stop := make(chan struct{})
	trims := make(chan struct{})
	go func() {
		defer close(trims)
		for {
			select {
			case <-stop:
				return
			default:
				a.Trim()
				runtime.Gosched()
			}
		}
	}()
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
					for _, x := range b {
						if x != byte(g+1) {
							t.Errorf("goroutine %d: a slot it holds was changed (by another, or given back)", g)
							return
						}
					}
					a.Put(b)
					mine = mine[:len(mine)-1]
					continue
				}
				b := a.Get(1 + (i*977)%32768)
				if b == nil {
					continue
				}
				for k := range b {
					b[k] = byte(g + 1)
				}
				mine = append(mine, b)
			}
			for _, b := range mine {
				a.Put(b)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-trims
	if a.InUse() != 0 {
		t.Fatalf("InUse %d after every slot came back", a.InUse())
	}
	checkFree(t, a)
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

// checkFree recounts S4: Warm is the bytes of the warm lists, Released the
// whole pages of the cold slots, and Mapped covers both and InUse.
func checkFree(t *testing.T, a *Arena) {
	t.Helper()
	var warm, released int64
	for i := range a.classes {
		c := &a.classes[i]
		c.mu.Lock()
		warm += int64(len(c.free) * c.size)
		for _, b := range c.cold {
			released += int64(wholePages(b))
		}
		c.mu.Unlock()
	}
	if a.Warm() != warm || a.Released() != released {
		t.Fatalf("Warm %d Released %d; a recount gives %d and %d", a.Warm(), a.Released(), warm, released)
	}
	if a.Mapped()-a.Released() < a.InUse()+a.Warm() {
		t.Fatalf("Mapped %d - Released %d < InUse %d + Warm %d", a.Mapped(), a.Released(), a.InUse(), a.Warm())
	}
}

// TestGivesPagesBack (S4): free slots that no Get needed through a whole
// trim interval, beyond Keep, give their pages back to the system: the
// process's resident memory drops, a reused cold slot reads as zeros, and
// the warm slots left are Keep's worth.
func TestGivesPagesBack(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pages are given back on Linux only")
	}
	if pageSize != 4096 {
		t.Skipf("the test's slots are sized for 4 KiB pages, not %d", pageSize)
	}
	a := New()
	defer a.Release()
	const keep = 1 << 20
	a.SetKeep(keep)
	var held [][]byte
	for range 4096 { // 64 MiB of 16 KiB slots, every page touched
		b := a.Get(16 << 10)
		if b == nil {
			t.Skip("no anonymous mappings")
		}
		for k := range b {
			b[k] = 0xff
		}
		held = append(held, b)
	}
	before := vmRSS(t)
	for _, b := range held {
		a.Put(b)
	}
	a.Trim() // the gets above needed every slot: nothing is idle yet
	if a.Released() != 0 || a.Warm() != int64(len(held)*SlotBytes(16<<10)) {
		t.Fatalf("a trim right after the slots were needed gave back %d bytes (warm %d)", a.Released(), a.Warm())
	}
	a.Trim() // a whole interval without a Get: all idle
	after := vmRSS(t)
	checkFree(t, a)
	if a.Warm() > keep || a.Warm() < keep-int64(SlotBytes(16<<10)) {
		t.Fatalf("Warm %d after the trim, want Keep %d (to a slot)", a.Warm(), keep)
	}
	if a.Mapped()-a.Released() > keep+int64(len(held))*int64(2*pageSize) {
		t.Fatalf("Mapped %d - Released %d: the free slots hold more than Keep and their page edges", a.Mapped(), a.Released())
	}
	if invariants.Enabled {
		// Given-back slots are poisoned again (S4), which takes their
		// memory back: check the poison instead.
		for _, l := range [][][]byte{a.classes[sort.SearchInts(sizes, 16<<10)].cold} {
			for _, b := range l {
				if b[:cap(b)][cap(b)/2] != poison {
					t.Fatal("a slot given back is not poisoned again")
				}
			}
		}
		return
	}
	if before-after < 48<<20 {
		t.Fatalf("VmRSS %d -> %d after returning 64 MiB of slots with Keep 1 MiB: not given back", before, after)
	}
	b := a.Get(16 << 10) // warm first
	if b[0] != 0xff && !invariants.Enabled {
		t.Fatal("Get did not take a warm slot first")
	}
	a.Put(b)
	for range len(held) { // drain the warm slots, then a cold one
		if b = a.Get(16 << 10); a.Warm() == 0 {
			break
		}
	}
	b = a.Get(16 << 10)
	for _, x := range pageRange(b) {
		if x != 0 {
			t.Fatal("a slot given back still holds its bytes")
		}
	}
}

// vmRSS is the process's resident memory, from /proc/self/status.
func vmRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

// TestTrimIfDue (S4): the trim clock counts Gets and Puts, so slots left
// idle in one class go back while another class keeps the arena busy, and
// only after a whole interval without use.
func TestTrimIfDue(t *testing.T) {
	if runtime.GOOS != "linux" || pageSize != 4096 || invariants.Enabled {
		t.Skip("needs Linux with 4 KiB pages, and no re-poisoning")
	}
	a := New()
	defer a.Release()
	a.SetKeep(0)
	var held [][]byte
	for range 64 {
		b := a.Get(16 << 10)
		if b == nil {
			t.Skip("no anonymous mappings")
		}
		b[len(b)/2] = 1 // touch
		held = append(held, b)
	}
	for _, b := range held {
		a.Put(b)
	}
	trims := 0
	for i := 0; i < 3*TrimEvery; i += 2 {
		a.Put(a.Get(1000)) // a busy class of small slots
		if a.TrimIfDue() {
			trims++
		}
		if trims == 1 && a.Released() != 0 {
			t.Fatal("slots went back before a whole interval passed unused")
		}
	}
	if trims < 2 {
		t.Fatalf("%d trims in %d gets and puts", trims, 3*TrimEvery)
	}
	if got, want := a.Released(), int64(64*(SlotBytes(16<<10)/int(pageSize))*int(pageSize)); got < want/2 {
		t.Fatalf("Released %d after the idle class sat through the trims, want about %d", got, want)
	}
	checkFree(t, a)
}
