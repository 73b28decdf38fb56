package log

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/vfs"
)

func TestRoundTrip(t *testing.T) {
	rng := newRand(testutil.Seed(t))
	mem := vfs.NewMem()
	opts := smallOpts(mem)
	l, got := replayAll(t, opts)
	if len(got) != 0 {
		t.Fatalf("fresh log replayed %d records", len(got))
	}
	var want []rec
	for i := range 1500 {
		kind, body := randRecord(rng)
		lsn, err := l.Append(kind, body)
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		want = append(want, rec{lsn, kind, body})
		if i%97 == 0 {
			if err := l.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
		}
		if i%13 == 0 { // read back a recent record, maybe still in memory
			r := want[rng.IntN(len(want))]
			k, b, err := l.Read(r.lsn)
			if err != nil || k != r.kind || !bytes.Equal(b, r.body) {
				t.Fatalf("Read(%d) = %d, %d bytes, %v; want %v", r.lsn, k, len(b), err, r)
			}
		}
	}
	st := l.Stats()
	if st.Records != int64(len(want)) || st.Blobs == 0 || st.SegmentsCreated < 3 {
		t.Fatalf("stats %+v: want %d records, some blobs, several segments", st, len(want))
	}
	t.Logf("stats %+v", st)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Append(1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}

	l, got = replayAll(t, opts)
	defer l.Close()
	checkPrefix(t, got, want, len(want))
	for _, r := range want {
		k, b, err := l.Read(r.lsn)
		if err != nil || k != r.kind || !bytes.Equal(b, r.body) {
			t.Fatalf("Read(%d) after reopen = %d, %d bytes, %v; want %v", r.lsn, k, len(b), err, r)
		}
	}
	// Appends continue after the recovered end.
	lsn, err := l.Append(7, []byte("more"))
	if err != nil || lsn < want[len(want)-1].lsn {
		t.Fatalf("Append after reopen = %d, %v", lsn, err)
	}
}

func TestAbortSkipped(t *testing.T) {
	mem := vfs.NewMem()
	opts := smallOpts(mem)
	l, _ := replayAll(t, opts)
	var want []rec
	for i := range 300 {
		body := bytes.Repeat([]byte{byte(i)}, i%50)
		if i == 150 {
			body = make([]byte, 5000) // a blob reservation, aborted below
		}
		r, err := l.Reserve(len(body))
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 || i == 150 {
			r.Abort()
			continue
		}
		r.Complete(Kind(1+i%200), body)
		want = append(want, rec{r.LSN(), Kind(1 + i%200), body})
	}
	aborted := 100 // i%3 == 0, i == 150 (a blob) among them
	if st := l.Stats(); st.Canceled != int64(aborted) {
		t.Fatalf("Canceled = %d, want %d", st.Canceled, aborted)
	}
	if _, _, err := l.Read(LSN(0)); !errors.Is(err, ErrInvalidLSN) {
		t.Fatalf("Read of a canceled record: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, got := replayAll(t, opts)
	defer l.Close()
	checkPrefix(t, got, want, len(want))
}

func TestBatchDroppedUnlessEnded(t *testing.T) {
	mem := vfs.NewMem()
	opts := smallOpts(mem)
	l, _ := replayAll(t, opts)
	var want []rec
	add := func(body string) {
		lsn, err := l.Append(1, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, rec{lsn, 1, []byte(body)})
	}
	add("before")
	if err := l.BeginBatch(); err != nil {
		t.Fatal(err)
	}
	add("in batch 1")
	add("in batch 2")
	if err := l.EndBatch(); err != nil {
		t.Fatal(err)
	}
	complete := len(want)
	if err := l.BeginBatch(); err != nil {
		t.Fatal(err)
	}
	for range 100 { // spans several buffers and a segment end
		add(string(make([]byte, 1500)))
	}
	if err := l.Close(); err != nil { // durable, but the batch is open
		t.Fatal(err)
	}
	l, got := replayAll(t, opts)
	checkPrefix(t, got, want, complete)
	if len(got) != complete {
		t.Fatalf("replayed %d records, want %d (open batch dropped)", len(got), complete)
	}
	// The dropped batch stays dropped after more appends.
	want = want[:complete]
	add("after")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, got = replayAll(t, opts)
	defer l.Close()
	checkPrefix(t, got, want, len(want))
}

func TestOptionsValidate(t *testing.T) {
	o := Options{SegmentSizeBytes: 1000, BufferSizeBytes: 10, Buffers: 1}
	err := o.Validate()
	if err == nil {
		t.Fatal("Validate accepted bad options")
	}
	t.Log(err)
	for _, want := range []string{"FS", "Dir", "SegmentSizeBytes", "BufferSizeBytes", "Buffers"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("Validate error does not mention %s", want)
		}
	}
}

func TestAppendRejects(t *testing.T) {
	l, _ := replayAll(t, smallOpts(vfs.NewMem()))
	defer l.Close()
	for _, k := range []Kind{0, MaxUserKind + 1, KindSegmentEnd} {
		if _, err := l.Append(k, nil); !errors.Is(err, ErrInvalidKind) {
			t.Errorf("Append(kind %d): %v", k, err)
		}
	}
	if _, err := l.Reserve(MaxBodySize + 1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Reserve(too large): %v", err)
	}
	if _, _, err := l.Read(l.Tail() + 100); !errors.Is(err, ErrInvalidLSN) {
		t.Errorf("Read beyond tail: %v", err)
	}
}
