package log

import (
	"bytes"
	"slices"
	"testing"

	"github.com/sledgo/sled/vfs"
)

// powerLoss returns the records that survive a power cut of fs now: it
// replays a crash clone that keeps only what was synced.
func powerLoss(t *testing.T, fs *vfs.MemFS, opts Options) (*Log, []rec) {
	t.Helper()
	opts.FS = fs.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
	l, got := replayAll(t, opts)
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close after power loss: %v", err)
		}
	})
	return l, got
}

// A process crash leaves written-but-unsynced data; the next Open replays it
// and reports it stable, so that Open must sync it (syncRecovered), even
// when the next record goes into a new segment and nothing ever syncs the
// old one again (L6/L7 after reopen). The record acknowledged after the
// reopen must survive a power cut, byte for byte.
func TestReopenUnsyncedSegmentBoundary(t *testing.T) {
	fs := vfs.NewMem()
	opts := smallOpts(fs)
	a, err := Open(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Fill segment 0, up to the first record that lands in segment 1.
	var appended []rec
	for i := 0; ; i++ {
		body := bytes.Repeat([]byte{byte(i)}, 1000)
		lsn, err := a.Append(1, body)
		if err != nil {
			t.Fatal(err)
		}
		if lsn >= a.segSize {
			break // still in A's buffer: lost with A
		}
		appended = append(appended, rec{lsn, 1, body})
	}
	last := appended[len(appended)-1].lsn
	if _, _, err := a.Read(last); err != nil { // has segment 0 written, not synced
		t.Fatal(err)
	}
	t.Logf("A: %d records, written %d stable %d", len(appended), a.Written(), a.Stable())
	if a.Written() <= last || a.Stable() > last {
		t.Fatalf("A: written %d stable %d; want record %d written and not synced", a.Written(), a.Stable(), last)
	}
	if _, got := powerLoss(t, fs, opts); len(got) >= len(appended) {
		t.Fatalf("a power cut at A's crash kept %d of %d records: nothing was left unsynced to test", len(got), len(appended))
	}

	// "Process crash": A is abandoned (it will not touch the files again:
	// nothing wakes its I/O goroutine); B opens the same files.
	b, replayed := replayAll(t, opts)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close B: %v", err)
		}
	})
	checkPrefix(t, replayed, appended, len(appended))
	t.Logf("B: replayed %d records, stable %d", len(replayed), b.Stable())
	if b.Stable() <= last {
		t.Fatalf("B: stable %d, below the replayed record %d", b.Stable(), last)
	}
	// B reports the replayed records stable: a power cut now keeps them.
	if _, got := powerLoss(t, fs, opts); len(got) != len(replayed) {
		t.Fatalf("B reported %d replayed records stable; a power cut right after Open kept %d", len(replayed), len(got))
	}

	ack := []byte("acknowledged")
	x, err := b.Append(1, ack)
	if err != nil {
		t.Fatal(err)
	}
	if x < b.segSize {
		t.Fatalf("B appended at %d, in segment 0; the test needs it in a later segment", x)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Logf("B: flushed record at %d", x)

	c, got := powerLoss(t, fs, opts)
	want := append(slices.Clone(replayed), rec{x, 1, ack})
	checkPrefix(t, got, want, len(want))
	kind, body, err := c.Read(x)
	if err != nil {
		t.Fatalf("C: read acknowledged record at %d: %v", x, err)
	}
	if kind != 1 || !bytes.Equal(body, ack) {
		t.Fatalf("C: record at %d is kind %d %q, want kind 1 %q", x, kind, body, ack)
	}
}

// A record that a crashed process wrote but did not sync is replayed by the
// next Open and reported stable, so Flush has nothing to sync: only Open's
// own sync makes it survive a power cut.
func TestReopenStableWithoutSync(t *testing.T) {
	fs := vfs.NewMem()
	opts := smallOpts(fs)
	a, err := Open(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	hello := []byte("hello")
	lsn, err := a.Append(1, hello)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Read(lsn); err != nil { // written, not synced
		t.Fatal(err)
	}
	if _, got := powerLoss(t, fs, opts); len(got) != 0 {
		t.Fatalf("a power cut at A's crash kept %d records; want the unsynced record lost", len(got))
	}

	// "Process crash": A is abandoned; B opens the same files.
	b, got := replayAll(t, opts)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close B: %v", err)
		}
	})
	t.Logf("B replayed %d records; Stable=%d Tail=%d", len(got), b.Stable(), b.Tail())
	want := []rec{{lsn, 1, hello}}
	checkPrefix(t, got, want, len(want))
	if b.Stable() <= lsn {
		t.Fatalf("B: stable %d, below the replayed record %d", b.Stable(), lsn)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	c, got2 := powerLoss(t, fs, opts)
	checkPrefix(t, got2, want, len(want))
	kind, body, err := c.Read(lsn)
	if err != nil {
		t.Fatalf("read %d after power loss: %v", lsn, err)
	}
	if kind != 1 || !bytes.Equal(body, hello) {
		t.Fatalf("record at %d after power loss is kind %d %q, want kind 1 %q", lsn, kind, body, hello)
	}
}
