package vfs

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
)

// TestMemFileModel applies random writes, truncations, syncs and damage to a
// MemFS file and checks it against a simple model of current and durable
// contents, including the invariant that replaying the unsynced operations
// on the durable contents yields the current contents.
func TestMemFileModel(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	fs := NewMem()
	f, err := fs.Create("/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := fs.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	node := f.(*memFileHandle).n

	var cur, dur []byte
	for step := range 2000 {
		var what string
		switch r := rng.IntN(100); {
		case r < 50:
			off := rng.Int64N(int64(len(cur)) + 64)
			p := make([]byte, 1+rng.IntN(64))
			for i := range p {
				p[i] = byte(rng.IntN(256))
			}
			what = "write"
			if _, err := f.WriteAt(p, off); err != nil {
				t.Fatal(err)
			}
			if end := off + int64(len(p)); end > int64(len(cur)) {
				cur = append(cur, make([]byte, end-int64(len(cur)))...)
			}
			copy(cur[off:], p)
		case r < 65:
			size := rng.Int64N(int64(len(cur)) + 64)
			what = "truncate"
			if err := f.Truncate(size); err != nil {
				t.Fatal(err)
			}
			if size <= int64(len(cur)) {
				cur = cur[:size:size]
			} else {
				cur = append(cur, make([]byte, size-int64(len(cur)))...)
			}
		case r < 80:
			what = "sync"
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			dur = slices.Clone(cur)
		case r < 90 && len(cur) > 0:
			off := rng.Int64N(int64(len(cur)))
			n := 1 + rng.IntN(int(int64(len(cur))-off))
			what = "corrupt"
			if err := fs.Corrupt("/f", off, n); err != nil {
				t.Fatal(err)
			}
			for i := off; i < off+int64(n); i++ {
				cur[i] ^= 0xff
				if i < int64(len(dur)) {
					dur[i] ^= 0xff
				}
			}
		default:
			size := rng.Int64N(int64(len(cur)) + 16)
			what = "damage-truncate"
			if err := fs.Truncate("/f", size); err != nil {
				t.Fatal(err)
			}
			resizeModel := func(b []byte) []byte {
				if size <= int64(len(b)) {
					return b[:size:size]
				}
				return append(b, make([]byte, size-int64(len(b)))...)
			}
			cur, dur = resizeModel(cur), resizeModel(dur)
		}

		node.mu.RLock()
		replayed := slices.Clone(node.durable)
		for _, op := range node.pending {
			replayed = op.apply(replayed)
		}
		ok := bytes.Equal(node.data, cur) && bytes.Equal(node.durable, dur) && bytes.Equal(replayed, cur)
		node.mu.RUnlock()
		if !ok {
			t.Fatalf("step %d (%s): MemFS diverged from the model", step, what)
		}
		if step%100 == 0 {
			got, err := fs.CrashClone(CrashOptions{}).ReadFile("/f")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, dur) {
				t.Fatalf("step %d: crash clone differs from the durable model", step)
			}
		}
	}
}

func TestMemPath(t *testing.T) {
	for name, want := range map[string][]string{
		"/":        nil,
		".":        nil,
		"a/b":      {"a", "b"},
		"/a//b/./": {"a", "b"},
		"../a":     {"a"},
		"/a/../b":  {"b"},
	} {
		if got := memPath(name); !slices.Equal(got, want) {
			t.Errorf("memPath(%q) = %q, want %q", name, got, want)
		}
	}
}
