package log

import (
	"errors"
	"testing"

	"github.com/sledgo/sled/vfs"
)

// A process crash leaves written-but-unsynced data; the next Open treats it
// as stable without syncing, and writes into the next segment without
// syncing the previous one (L6/L7 after reopen).
func TestReopenUnsyncedSegmentBoundary(t *testing.T) {
	fs := vfs.NewMem()
	opts := smallOpts(fs)
	a, err := Open(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 1000)
	var last LSN
	for {
		lsn, err := a.Append(1, body)
		if err != nil {
			t.Fatal(err)
		}
		if lsn >= a.segSize {
			break
		}
		last = lsn
	}
	if _, _, err := a.Read(last); err != nil { // forces segment 0 to be written, not synced
		t.Fatal(err)
	}
	t.Logf("A: written %d stable %d", a.Written(), a.Stable())
	// "process crash": A is abandoned; B opens the same files.
	b, err := Open(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("B: opened, stable %d (nothing synced by B)", b.Stable())
	x, err := b.Append(1, []byte("acknowledged"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Logf("B: flushed record at %d", x)
	// power loss
	c := fs.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
	opts.FS = c
	l, err := Open(opts, 0, nil)
	if err != nil {
		t.Fatalf("reopen after power loss: %v (ErrCorrupt=%v)", err, errors.Is(err, ErrCorrupt))
	}
	t.Logf("C: end %d", l.Tail())
}

func TestReopenStableWithoutSync(t *testing.T) {
	fs := vfs.NewMem()
	opts := smallOpts(fs)
	a, err := Open(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	lsn, _ := a.Append(1, []byte("hello"))
	if _, _, err := a.Read(lsn); err != nil {
		t.Fatal(err)
	}
	b, got := replayAll(t, opts)
	t.Logf("B replayed %d records; Stable=%d Tail=%d", len(got), b.Stable(), b.Tail())
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	c := fs.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
	opts.FS = c
	_, got2 := replayAll(t, opts)
	if len(got2) != len(got) {
		t.Fatalf("B saw %d records and Flush succeeded, after power loss %d remain", len(got), len(got2))
	}
}
