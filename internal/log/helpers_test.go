package log

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sledgo/sled/vfs"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x10d)) }

// smallOpts are options with tiny segments and buffers, to hit the rare
// paths (segment ends, full rings, blobs) often.
func smallOpts(fs vfs.FS) Options {
	return Options{
		FS:               fs,
		Dir:              "db/log",
		SegmentSizeBytes: MinSegmentSizeBytes,
		BufferSizeBytes:  4 << 10,
		Buffers:          3,
		FlushEvery:       -1,
	}
}

// rec is a record a test appended.
type rec struct {
	lsn  LSN
	kind Kind
	body []byte
}

func (r rec) String() string {
	return fmt.Sprintf("{lsn %d kind %d len %d}", r.lsn, r.kind, len(r.body))
}

// randRecord returns a random record: mostly small, some empty, some
// medium, some large enough to be a blob (with 4 KiB buffers).
func randRecord(rng *rand.Rand) (Kind, []byte) {
	kind := Kind(1 + rng.IntN(int(MaxUserKind)))
	var n int
	switch p := rng.IntN(100); {
	case p < 10:
		n = 0
	case p < 70:
		n = 1 + rng.IntN(100)
	case p < 95:
		n = 100 + rng.IntN(1800)
	default:
		n = 2000 + rng.IntN(20000)
	}
	body := make([]byte, n)
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	return kind, body
}

// replayAll opens the log and returns the records replayed from 0.
func replayAll(t testing.TB, opts Options) (*Log, []rec) {
	t.Helper()
	var got []rec
	l, err := Open(opts, 0, func(lsn LSN, kind Kind, body []byte) error {
		got = append(got, rec{lsn, kind, bytes.Clone(body)})
		return nil
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l, got
}

// checkPrefix checks that got is a prefix of want, of length at least min.
func checkPrefix(t testing.TB, got, want []rec, min int) {
	t.Helper()
	if len(got) < min {
		t.Fatalf("replayed %d records, but %d were acknowledged", len(got), min)
	}
	if len(got) > len(want) {
		t.Fatalf("replayed %d records, but only %d were appended", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.lsn != w.lsn || g.kind != w.kind || !bytes.Equal(g.body, w.body) {
			t.Fatalf("record %d: replayed %v, appended %v", i, g, w)
		}
	}
}
