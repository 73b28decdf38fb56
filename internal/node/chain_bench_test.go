package node

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// These benchmarks measure the design choice recorded in
// internal/pagecache/doc.go: pages are kept in memory as immutable nodes
// replaced by CAS (read-copy-update), a leaf as a flat base plus a small
// sorted, pointer-free overlay of its recent writes (overlay.go), not as a
// base with a chain of deltas (Bw-tree). A delta chain makes writes cheap
// (no copy) and reads slow (a pointer chase per delta before the binary
// search); copying the whole leaf per write does the opposite; the overlay
// sits between. These numbers say where, for a 64-entry leaf.

type chainDelta struct {
	key, val []byte
	del      bool
	next     *chainDelta
}

type chainPage struct {
	head *chainDelta
	base *Node
}

func (p *chainPage) get(key []byte) ([]byte, bool) {
	for d := p.head; d != nil; d = d.next {
		if bytes.Equal(d.key, key) {
			return d.val, !d.del
		}
	}
	if i, ok := p.base.Search(key); ok {
		return p.base.Val(i), true
	}
	return nil, false
}

func benchLeaf(n int) (*Node, [][]byte) {
	keys := make([][]byte, n)
	vals := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key%08d", i*2))
		vals[i] = make([]byte, 100)
	}
	return NewLeaf([]byte{}, nil, 0, keys, vals), keys
}

func BenchmarkLeafRead(b *testing.B) {
	base, keys := benchLeaf(64)
	b.Run("materialized", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < b.N; i++ {
			if _, ok := base.Search(keys[rng.IntN(len(keys))]); !ok {
				b.Fatal("missing")
			}
		}
	})
	for _, ov := range []int{1, 6, 11} {
		n := base
		for j := 0; j < ov; j++ {
			k := []byte(fmt.Sprintf("key%08d", j*2+1))
			i, found := n.Search(k)
			n = n.WithValue(i, found, k, make([]byte, 100))
		}
		if !n.Overlaid() {
			b.Fatalf("%d writes left no overlay", ov)
		}
		b.Run(fmt.Sprintf("overlay=%d", ov), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < b.N; i++ {
				if _, ok := n.Search(keys[rng.IntN(len(keys))]); !ok {
					b.Fatal("missing")
				}
			}
		})
	}
	for _, chain := range []int{2, 8, 16} {
		p := &chainPage{base: base}
		for j := 0; j < chain; j++ {
			p.head = &chainDelta{key: []byte(fmt.Sprintf("key%08d", j*2+1)), val: make([]byte, 100), next: p.head}
		}
		b.Run(fmt.Sprintf("deltas=%d", chain), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < b.N; i++ {
				if _, ok := p.get(keys[rng.IntN(len(keys))]); !ok {
					b.Fatal("missing")
				}
			}
		})
	}
}

func BenchmarkLeafWrite(b *testing.B) {
	base, keys := benchLeaf(64)
	val := make([]byte, 100)
	b.Run("copy-on-write", func(b *testing.B) {
		// The whole leaf copied per write (what WithValue did before the
		// overlay): the fold of a one-entry overlay.
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < b.N; i++ {
			k := keys[rng.IntN(len(keys))]
			j, found := base.Search(k)
			_ = base.WithValue(j, found, k, val).Flat()
		}
	})
	b.Run("overlay", func(b *testing.B) {
		// Successive versions of one leaf, as a page's writers make them:
		// overlay copies, and a fold every maxOverlayEntries writes.
		rng := rand.New(rand.NewPCG(1, 2))
		n := base
		for i := 0; i < b.N; i++ {
			k := keys[rng.IntN(len(keys))]
			j, found := n.Search(k)
			n = n.WithValue(j, found, k, val)
		}
	})
	b.Run("prepend-delta", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		p := &chainPage{base: base}
		for i := 0; i < b.N; i++ {
			p.head = &chainDelta{key: keys[rng.IntN(len(keys))], val: val, next: p.head}
			if i%8 == 7 {
				p.head = nil // consolidation every 8 deltas, as FragmentsPerImage
			}
		}
	})
}
