package log

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

// batchSpan is a batch of a workload: appended[start:end] are its records;
// ended reports whether EndBatch returned without error.
type batchSpan struct {
	start, end int
	ended      bool
}

// history is what a workload did before it stopped.
type history struct {
	appended []rec
	acked    int // appended[:acked] were acknowledged by a successful Flush
	batches  []batchSpan
}

// crashWorkload appends records (blobs and batches included) with Flushes
// until the first error, then closes the log.
func crashWorkload(fs vfs.FS, seed uint64) history {
	var h history
	l, err := Open(smallOpts(fs), 0, nil)
	if err != nil {
		return h
	}
	defer l.Close()
	rng := newRand(seed)
	for i := 0; i < 220; i++ {
		if rng.IntN(25) == 0 {
			if l.BeginBatch() != nil {
				return h
			}
			b := batchSpan{start: len(h.appended)}
			for range 1 + rng.IntN(6) {
				kind, body := randRecord(rng)
				lsn, err := l.Append(kind, body)
				if err != nil {
					h.batches = append(h.batches, b)
					return h
				}
				h.appended = append(h.appended, rec{lsn, kind, body})
				b.end = len(h.appended)
			}
			b.ended = l.EndBatch() == nil
			h.batches = append(h.batches, b)
			if !b.ended {
				return h
			}
			continue
		}
		kind, body := randRecord(rng)
		lsn, err := l.Append(kind, body)
		if err != nil {
			return h
		}
		h.appended = append(h.appended, rec{lsn, kind, body})
		if rng.IntN(8) == 0 {
			n := len(h.appended)
			if l.Flush() != nil {
				return h
			}
			h.acked = n
		}
	}
	if l.Flush() == nil {
		h.acked = len(h.appended)
	}
	return h
}

// checkRecovered checks the prefix rule on fs after a crash of the workload
// h, then appends more, reopens and checks that nothing stale came back.
func checkRecovered(t *testing.T, fs *vfs.MemFS, h history, what string) {
	t.Helper()
	opts := smallOpts(fs)
	l, got := replayAll(t, opts)
	if len(got) < h.acked || len(got) > len(h.appended) {
		l.Close()
		t.Fatalf("%s: replayed %d records; %d acknowledged, %d appended", what, len(got), h.acked, len(h.appended))
	}
	checkPrefix(t, got, h.appended, h.acked)
	n := len(got)
	for _, b := range h.batches {
		if (b.ended && n > b.start && n < b.end) || (!b.ended && n > b.start) {
			l.Close()
			t.Fatalf("%s: replayed %d records, cutting batch %+v", what, n, b)
		}
	}
	// Append after recovery; stale records past the old end must not come
	// back, even after another crash that keeps only synced data.
	want := got
	for i := range 30 {
		body := bytes.Repeat([]byte{byte(i)}, i*40)
		lsn, err := l.Append(200, body)
		if err != nil {
			l.Close()
			t.Fatalf("%s: Append after recovery: %v", what, err)
		}
		want = append(want, rec{lsn, 200, body})
	}
	if err := l.Flush(); err != nil {
		t.Fatalf("%s: Flush after recovery: %v", what, err)
	}
	again := fs.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
	if err := l.Close(); err != nil {
		t.Fatalf("%s: Close after recovery: %v", what, err)
	}
	l, got = replayAll(t, smallOpts(again))
	defer l.Close()
	if len(got) != len(want) {
		t.Fatalf("%s: second recovery replayed %d records, want %d", what, len(got), len(want))
	}
	checkPrefix(t, got, want, len(want))
}

// TestCrashLoop cuts the power before every mutating file system operation
// of a workload in turn and checks recovery after each cut.
func TestCrashLoop(t *testing.T) {
	seed := testutil.Seed(t)
	counter := vfs.NewCounter()
	full := crashWorkload(vfs.NewInjecting(vfs.NewMem(), counter), seed)
	n := counter.Count(vfs.MutatingOps)
	t.Logf("workload: %d records, %d mutating operations", len(full.appended), n)
	if full.acked != len(full.appended) {
		t.Fatalf("uninjected workload acknowledged %d of %d", full.acked, len(full.appended))
	}
	crashes := 0
	for k := int64(1); k <= n+2; k++ {
		mem := vfs.NewMem()
		inj := vfs.CrashAfter(k)
		h := crashWorkload(vfs.NewInjecting(mem, inj, vfs.WithTornWrites(int64(seed)+k)), seed)
		if inj.Triggered() {
			crashes++
		}
		checkRecovered(t, mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced}), h, "drop-all k="+itoa(k))
		checkRecovered(t, mem.CrashClone(vfs.CrashOptions{Mode: vfs.KeepRandomUnsyncedPrefix, Seed: int64(seed) + k}), h,
			"keep-prefix k="+itoa(k))
		if t.Failed() {
			t.Fatalf("failed at k=%d", k)
		}
	}
	if crashes < int(n)/2 {
		t.Fatalf("only %d of %d runs crashed", crashes, n)
	}
}

func itoa(k int64) string {
	if k == 0 {
		return "0"
	}
	var b []byte
	for ; k > 0; k /= 10 {
		b = append([]byte{byte('0' + k%10)}, b...)
	}
	return string(b)
}

// TestTornTail damages the last record: it is dropped, and the log goes on.
func TestTornTail(t *testing.T) {
	mem := vfs.NewMem()
	opts := smallOpts(mem)
	l, _ := replayAll(t, opts)
	var want []rec
	for i := range 50 {
		body := bytes.Repeat([]byte{byte(i)}, 100)
		lsn, err := l.Append(3, body)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, rec{lsn, 3, body})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	last := want[len(want)-1].lsn
	if err := mem.Corrupt("db/log/"+segName(uint64(last)/MinSegmentSizeBytes), int64(last)%MinSegmentSizeBytes+headerSize+50, 1); err != nil {
		t.Fatal(err)
	}
	l, got := replayAll(t, opts)
	if len(got) != len(want)-1 {
		t.Fatalf("replayed %d, want %d (torn last record dropped)", len(got), len(want)-1)
	}
	checkPrefix(t, got, want, len(want)-1)
	lsn, err := l.Append(4, []byte("after"))
	if err != nil || lsn != last {
		t.Fatalf("Append after torn tail = %d, %v; want LSN %d", lsn, err, last)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, got = replayAll(t, opts)
	defer l.Close()
	want = append(want[:len(want)-1], rec{last, 4, []byte("after")})
	checkPrefix(t, got, want, len(want))
}

// TestMidLogCorruption damages a record of a complete segment followed by
// others: Open must fail with ErrCorrupt, not lose the later records.
func TestMidLogCorruption(t *testing.T) {
	for _, tc := range []struct {
		name string
		off  func(recs []rec) (file string, off int64)
	}{
		{"record body", func(recs []rec) (string, int64) {
			r := recs[len(recs)/8] // in segment 0 or 1; the log has several
			return segName(uint64(r.lsn) / MinSegmentSizeBytes), int64(r.lsn)%MinSegmentSizeBytes + headerSize + 1
		}},
		{"record header", func(recs []rec) (string, int64) {
			r := recs[len(recs)/8]
			return segName(uint64(r.lsn) / MinSegmentSizeBytes), int64(r.lsn)%MinSegmentSizeBytes + 5
		}},
		{"segment start", func([]rec) (string, int64) { return segName(1), 0 }},
		{"blob", func(recs []rec) (string, int64) {
			for _, r := range recs[:len(recs)/2] {
				if len(r.body) > 4<<10 {
					return blobName(r.lsn), blobHeaderSize + 3
				}
			}
			panic("no blob")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			opts := smallOpts(mem)
			l, _ := replayAll(t, opts)
			var recs []rec
			for i := range 1000 {
				body := bytes.Repeat([]byte{byte(i)}, 10+i%500)
				if i%50 == 7 {
					body = bytes.Repeat([]byte{byte(i)}, 6000) // a blob
				}
				lsn, err := l.Append(9, body)
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, rec{lsn, 9, body})
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if last := recs[len(recs)-1].lsn; last < 3*MinSegmentSizeBytes {
				t.Fatalf("log too short: %d", last)
			}
			file, off := tc.off(recs)
			if err := mem.Corrupt("db/log/"+file, off, 1); err != nil {
				t.Fatal(err)
			}
			_, err := Open(opts, 0, func(LSN, Kind, []byte) error { return nil })
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open after corrupting %s at %d: %v, want ErrCorrupt", file, off, err)
			}
			t.Log(err)
		})
	}
}

// TestReadCorrupt checks that Read reports damaged data as ErrCorrupt.
func TestReadCorrupt(t *testing.T) {
	mem := vfs.NewMem()
	l, _ := replayAll(t, smallOpts(mem))
	defer l.Close()
	lsn, err := l.Append(1, []byte("hello, world"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := mem.Corrupt("db/log/"+segName(0), int64(lsn)+headerSize+2, 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Read(lsn); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Read of a damaged record: %v", err)
	}
}
