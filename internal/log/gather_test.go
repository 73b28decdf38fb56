package log

import (
	"sync"
	"testing"
	"time"

	"github.com/sledgo/sled/vfs"
)

// slowSyncFS is a MemFS whose file syncs take d, as a device's would.
func slowSyncFS(d time.Duration) vfs.FS {
	return vfs.NewInjecting(vfs.NewMem(), vfs.InjectorFunc(func(op vfs.Op, _ string) error {
		if op == vfs.OpSync {
			time.Sleep(d)
		}
		return nil
	}))
}

// TestGroupCommitGathers: writers that each append and Flush in a loop
// share syncs. Without gather, the writers a sync wakes find the next sync
// already started for those that came meanwhile and wait for the one
// after (about two syncs per round of writers); with it, one sync serves
// each round. A lone writer gets one sync per Flush and is never held
// back waiting for others. Bounds are on counts, not times: the sync
// takes 2 ms, far longer than a writer's append.
func TestGroupCommitGathers(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs that take 2 ms each")
	}
	for _, writers := range []int{1, 8} {
		l, err := Open(Options{FS: slowSyncFS(2 * time.Millisecond), Dir: "log", FlushEvery: -1}, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		const rounds = 40
		before := l.Stats().Syncs
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					if _, err := l.Append(1, make([]byte, 100)); err != nil {
						t.Error(err)
						return
					}
					if err := l.Flush(); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		syncs := l.Stats().Syncs - before
		flushes := int64(writers * rounds)
		perFlush := float64(syncs) / float64(flushes)
		t.Logf("%d writers: %d syncs for %d flushes (%.3f per flush)", writers, syncs, flushes, perFlush)
		switch {
		case writers == 1 && syncs != flushes:
			t.Errorf("a lone writer: %d syncs for %d flushes, want one each", syncs, flushes)
		case writers > 1 && perFlush > 1.5/float64(writers):
			t.Errorf("%d writers: %.3f syncs per flush, want at most %.3f (about one per round)", writers, perFlush, 1.5/float64(writers))
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
