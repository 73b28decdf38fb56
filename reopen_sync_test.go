package sled

import (
	"bytes"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/sledgo/sled/vfs"
)

// reopenContents returns every key and value of db's default tree.
func reopenContents(t *testing.T, db *DB) map[string]string {
	t.Helper()
	m := map[string]string{}
	it := db.Iter()
	for it.Next() {
		m[string(it.Key())] = string(it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	if err := it.Close(); err != nil {
		t.Fatalf("close iterator: %v", err)
	}
	return m
}

// reopenPowerLoss opens a crash clone of mem that keeps only what was
// synced, checks it, and returns its contents.
func reopenPowerLoss(t *testing.T, mem *vfs.MemFS, cfg Config) map[string]string {
	t.Helper()
	cfg.FS = mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
	db, err := cfg.Open()
	if err != nil {
		t.Fatalf("open after power loss: %v", err)
	}
	if err := db.Check(); err != nil {
		t.Fatalf("check after power loss: %v", err)
	}
	m := reopenContents(t, db)
	if err := db.Close(); err != nil {
		t.Fatalf("close after power loss: %v", err)
	}
	return m
}

// Regression: records that a killed process wrote but did not sync, which
// the next Open replays and reports durable, must be synced by that Open
// (internal/log syncRecovered).
func TestReopenAfterProcessCrashThenPowerLoss(t *testing.T) {
	mem := vfs.NewMem()
	cfg := Config{Path: "db", FS: mem, FlushEvery: -1, SegmentSizeBytes: 64 << 10}
	a, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	a.clean.off.Store(true) // A must not touch files once "killed"
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	written := map[string]string{}
	for i := 0; i < 300; i++ {
		k, v := fmt.Sprintf("k%04d", i), bytes.Repeat([]byte{byte('a' + i%26)}, 300)
		if _, err := a.Insert([]byte(k), v); err != nil {
			t.Fatal(err)
		}
		written[k] = string(v)
	}
	// A's I/O goroutine still writes the buffers that are sealed; a killed
	// process would not write after B opens, so wait until it has written
	// every buffer before the current one. Nothing wakes it after that
	// (no Flush, no ticker, no cleaning), so A never touches the files again.
	for deadline := time.Now().Add(10 * time.Second); a.log.CompletePrefix() != a.log.Tail(); {
		if time.Now().After(deadline) {
			t.Fatalf("A: sealed buffers not written after 10s: written %d, tail %d", a.log.Written(), a.log.Tail())
		}
		time.Sleep(time.Millisecond)
	}
	w, s := a.log.Written(), a.log.Stable()
	t.Logf("A: written %d stable %d tail %d", w, s, a.log.Tail())
	if w <= s {
		t.Fatalf("A: written %d, stable %d: nothing is left unsynced to test", w, s)
	}
	atCrash := reopenPowerLoss(t, mem, cfg)
	// "Process crash": A stops (its goroutines stay parked for the rest of
	// the test binary, like a dead process's), its written data stays in
	// the OS; B opens the same files.
	if err := a.lock.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	seen := reopenContents(t, b)
	t.Logf("B sees %d keys; a power cut at A's crash keeps %d", len(seen), len(atCrash))
	if len(seen) <= len(atCrash) {
		t.Fatalf("B sees %d keys, a power cut at the crash keeps %d: the crash left nothing unsynced that B recovered", len(seen), len(atCrash))
	}
	for k, v := range seen {
		if written[k] != v {
			t.Fatalf("B: %s = %.10q..., A wrote %.10q...", k, v, written[k])
		}
	}
	// B reports what it replayed as durable: a power cut right after Open
	// keeps it all.
	if got := reopenPowerLoss(t, mem, cfg); !maps.Equal(got, seen) {
		t.Fatalf("B sees %d keys after Open; a power cut right after Open keeps %d", len(seen), len(got))
	}
	// B's Flush acknowledges everything B saw, and has nothing to sync: only
	// Open's sync makes it true. (B writes nothing new: a write would sync
	// the segment A's unsynced tail is in, and hide a missing Open sync.)
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := reopenPowerLoss(t, mem, cfg); !maps.Equal(got, seen) {
		t.Fatalf("B saw %d keys and flushed; after power loss %d", len(seen), len(got))
	}
}
