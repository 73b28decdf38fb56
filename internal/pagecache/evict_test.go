package pagecache

import (
	"testing"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/vfs"
)

// TestEvictSomeBoundedOnSmallTable: one evictSome call passes at most three
// laps of its shard, however many candidates it was asked for. On a small
// table whose pages cannot be evicted (here: never logged; in a database:
// fragments still in a log buffer, frozen or marked nodes), a call asked
// for 256 used to pass 256*64 slots, each shard's
// few ids hundreds of times over: every operation of a database with a
// small cache paid for it (the crash tests ran 90 s under -race).
func TestEvictSomeBoundedOnSmallTable(t *testing.T) {
	fs := vfs.NewMem()
	l, err := log.Open(log.Options{FS: fs, Dir: "log", FlushEvery: -1, SegmentSizeBytes: log.MinSegmentSizeBytes, BufferSizeBytes: 4 << 10}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := Open(Options{Log: l})
	defer c.Close()
	const pages = 40
	for i := range pages {
		k := []byte{byte(i)}
		if _, err := c.CreatePage(node.NewLeaf([]byte{}, nil, 0, [][]byte{k}, [][]byte{k}), func(node.PageID) []codec.Section { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	hands := func() (sum uint64) {
		for i := range c.hands {
			sum += c.hands[i].n.Load()
		}
		return sum
	}
	perShard := c.next.Load()/evictShards + 1
	for call := range 50 {
		before := hands()
		evicted, _ := c.evictSome(256)
		passed := hands() - before
		if limit := 3*perShard + claimRun; passed > limit {
			t.Fatalf("call %d: evictSome(256) passed %d slots of a %d-page table (at most %d: three laps of a shard)", call, passed, pages, limit)
		}
		if evicted != 0 {
			t.Fatalf("call %d evicted %d pages that were never logged", call, evicted)
		}
	}
}
