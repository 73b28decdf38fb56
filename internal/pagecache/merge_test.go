package pagecache

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/testutil"
)

// A page-in applies several fragments as one merge (mergeDeltas): it must
// build the node that applying them one by one builds.
func TestMergeDeltasEqualsSequentialApply(t *testing.T) {
	seed := testutil.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 11))
	key := func() []byte { return []byte(fmt.Sprintf("k%02d", rng.IntN(40))) }
	for round := range 2000 {
		var keys, vals [][]byte
		for i := range 40 {
			if rng.IntN(2) == 0 {
				keys = append(keys, []byte(fmt.Sprintf("k%02d", i)))
				vals = append(vals, []byte(fmt.Sprint("image", i)))
			}
		}
		n := node.NewLeaf([]byte{}, nil, 0, keys, vals)
		var secs []codec.Section
		want := n
		for f := range 1 + rng.IntN(15) {
			var d node.Delta
			switch rng.IntN(3) {
			case 0:
				d = node.Delta{Kind: node.DeltaSet, Key: key(), Val: []byte(fmt.Sprint(round, ".", f))}
			case 1:
				d = node.Delta{Kind: node.DeltaDel, Key: key()}
			default:
				// A batch: strictly increasing keys.
				d = node.Delta{Kind: node.DeltaBatch}
				last := -1
				for last < 39 && rng.IntN(4) != 0 {
					last += 1 + rng.IntN(39-last)
					k := []byte(fmt.Sprintf("k%02d", last))
					if rng.IntN(3) == 0 {
						d.Ops = append(d.Ops, node.Delta{Kind: node.DeltaDel, Key: k})
					} else {
						d.Ops = append(d.Ops, node.Delta{Kind: node.DeltaSet, Key: k, Val: []byte(fmt.Sprint(round, ".", f, ".", last))})
					}
				}
			}
			secs = append(secs, codec.Section{Kind: codec.SecDelta, Delta: d})
			want = d.Apply(want)
		}
		got := n.WithOps(mergeDeltas(secs))
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("round %d (seed %d): merged %q, sequential %q", round, seed, got.Keys(), want.Keys())
		}
	}
}
