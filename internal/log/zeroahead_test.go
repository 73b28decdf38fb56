package log

import (
	"bytes"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

// Small flushed writes make the I/O goroutine write zeros ahead of the
// log's end (zeroAhead): never over a record (every record reads back, in
// the running log and after crashes cut at random points), never past the
// segment, at most zeroAheadBytes past the end, and once per zeroAheadBytes
// rather than once per write.
func TestZeroAheadKeepsRecords(t *testing.T) {
	seed := testutil.Seed(t)
	rng := newRand(seed)
	mem := vfs.NewMem()
	opts := smallOpts(mem)
	opts.SegmentSizeBytes = 4 << 20 // several zero-ahead rounds per segment
	l, err := Open(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []rec
	zeroRounds := 0
	lastZeroed := int64(-1)
	for len(want) < 12000 {
		kind, body := randRecord(rng)
		if len(body) > 1500 {
			body = body[:1500] // no blobs: every byte goes to the segments
		}
		lsn, err := l.Append(kind, body)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, rec{lsn, kind, body})
		if rng.IntN(3) == 0 {
			if err := l.Flush(); err != nil {
				t.Fatal(err)
			}
			// Flush returned, so the I/O goroutine wrote and synced what
			// it covers; it is parked on its channel until kicked again.
			end := int64(l.Written() % LSN(l.segSize))
			zeroed := l.io.zeroed
			if end > 0 && (zeroed < end || zeroed > end+zeroAheadBytes || zeroed > int64(l.segSize)) {
				t.Fatalf("after a flush to %d (segment offset %d), zeroed up to %d", l.Written(), end, zeroed)
			}
			if zeroed != lastZeroed {
				zeroRounds++
				lastZeroed = zeroed
			}
		}
		if len(want)%1500 == 0 {
			for _, r := range want[len(want)-1500:] {
				k, b, err := l.Read(r.lsn)
				if err != nil || k != r.kind || !bytes.Equal(b, r.body) {
					t.Fatalf("record %v reads back as kind %d, %d bytes, %v", r, k, len(b), err)
				}
			}
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	written := int64(l.Written())
	if max := 2 + 2*written/zeroAheadBytes; int64(zeroRounds) > max {
		t.Errorf("zeros written %d times for %d bytes of log; want at most %d (once per %d bytes)", zeroRounds, written, max, zeroAheadBytes)
	}
	for round := 0; round < 4; round++ {
		clone := mem.CrashClone(vfs.CrashOptions{Seed: int64(seed) + int64(round)})
		o := opts
		o.FS = clone
		l2, got := replayAll(t, o)
		checkPrefix(t, got, want, len(want))
		l2.Close()
	}
	l.Close()
}
