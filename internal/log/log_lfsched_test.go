//go:build lfdelay

package log

// Systematic concurrency tests (internal/lfsched) of the reservation
// protocol: every interleaving, up to a preemption bound, of writers
// reserving and completing records in buffers so small that they seal and
// hand off, with the records checked after each schedule.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sledgo/sled/internal/lfdelay"
	"github.com/sledgo/sled/internal/lfsched"
	"github.com/sledgo/sled/vfs"
)

// lfOpts: 1 KiB buffers take two 400-byte records each, so a third writer
// seals. Eight buffers: no installer waits for the I/O goroutine to free a
// slot (a wait the schedule could not order).
func lfOpts(fs vfs.FS) Options {
	return Options{FS: fs, Dir: "log", SegmentSizeBytes: MinSegmentSizeBytes, BufferSizeBytes: MinBufferSizeBytes, Buffers: 8, FlushEvery: -1}
}

const lfBodyBytes = 400

func lfBody(w, i int) []byte {
	b := bytes.Repeat([]byte{byte('a' + w)}, lfBodyBytes)
	binary.LittleEndian.PutUint32(b, uint32(w<<8|i))
	return b
}

// lfReserveRacy is reserve as a first version might have written it: the
// offset is read, checked and stored back instead of CASed (L2 broken).
// Only the seeded-bug test uses it.
func lfReserveRacy(l *Log, size int) (*Reservation, error) {
	rec := uint64(recordSize(size))
	for {
		b := l.cur.Load()
		h := b.hdr.Load()
		if h&sealedBit != 0 {
			if err := l.waitInstalled(b); err != nil {
				return nil, err
			}
			continue
		}
		off := h & offsetMask
		if off+rec <= b.cap {
			lfdelay.Point("log.reserve")
			b.hdr.Store(h + rec + oneWriter) // BUG: not a CAS
			return &Reservation{l: l, b: b, off: off, lsn: b.base + LSN(off), size: size}, nil
		}
		lfdelay.Point("log.seal")
		if b.hdr.CompareAndSwap(h, (h|sealedBit)+oneWriter) {
			l.sealed(b, off, b.base+LSN(off+rec) > b.segLimit)
		}
	}
}

// lfReserveComplete is the scenario: writers each reserve and complete
// perWriter records; then the log is flushed, read back and replayed.
func lfReserveComplete(writers, perWriter int, racy bool) lfsched.Scenario {
	return func(r *lfsched.Run) error {
		fs := vfs.NewMem()
		l, err := Open(lfOpts(fs), 0, nil)
		if err != nil {
			return err
		}
		defer l.Close()
		lsns := make([][]LSN, writers)
		for w := range writers {
			r.Go(fmt.Sprint("w", w), func() {
				for i := range perWriter {
					body := lfBody(w, i)
					var res *Reservation
					var err error
					if racy {
						res, err = lfReserveRacy(l, len(body))
					} else {
						res, err = l.Reserve(len(body))
					}
					if err != nil {
						r.Errorf("Reserve: %v", err)
						return
					}
					res.Complete(1, body)
					lsns[w] = append(lsns[w], res.LSN())
				}
			})
		}
		r.Wait()
		if err := l.Flush(); err != nil {
			return err
		}
		// Each writer's records are in its order; no two share an LSN.
		all := map[LSN][]byte{}
		for w := range writers {
			if !slices.IsSorted(lsns[w]) {
				return fmt.Errorf("writer %d got LSNs out of order: %v", w, lsns[w])
			}
			for i, lsn := range lsns[w] {
				if _, dup := all[lsn]; dup {
					return fmt.Errorf("LSN %d handed out twice", lsn)
				}
				all[lsn] = lfBody(w, i)
			}
		}
		if st := l.Stats(); st.BuffersSealed == 0 {
			return fmt.Errorf("no buffer was sealed: the scenario does not test the seal")
		}
		// Every completed record reads back.
		for lsn, want := range all {
			kind, body, err := l.Read(lsn)
			if err != nil || kind != 1 || !bytes.Equal(body, want) {
				return fmt.Errorf("Read(%d) = kind %d, %d bytes, %v", lsn, kind, len(body), err)
			}
		}
		if err := l.Close(); err != nil {
			return err
		}
		// Replay finds exactly these records, in LSN order.
		var got []LSN
		l2, err := Open(lfOpts(fs), 0, func(lsn LSN, kind Kind, body []byte) error {
			if want, ok := all[lsn]; !ok || !bytes.Equal(body, want) {
				return fmt.Errorf("replayed a record at %d that no writer completed", lsn)
			}
			got = append(got, lsn)
			return nil
		})
		if err != nil {
			return err
		}
		defer l2.Close()
		if len(got) != len(all) || !slices.IsSorted(got) {
			return fmt.Errorf("replayed %v; %d records were completed", got, len(all))
		}
		return nil
	}
}

func TestLFSchedReserveSeal(t *testing.T) {
	res := lfsched.Explore(lfsched.Config{PreemptionBound: 2}, lfReserveComplete(3, 1, false))
	t.Logf("3 writers x 1 record: %v", res)
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	res = lfsched.Explore(lfsched.Config{PreemptionBound: 2}, lfReserveComplete(2, 2, false))
	t.Logf("2 writers x 2 records: %v", res)
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	res = lfsched.Explore(lfsched.Config{PreemptionBound: 2}, lfReserveComplete(3, 2, false))
	t.Logf("3 writers x 2 records: %v", res)
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
}

// TestLFSchedSeededReserveBug: the explorer finds the reservation that
// stores instead of CASing (two records at one LSN), at the same schedule
// every time.
func TestLFSchedSeededReserveBug(t *testing.T) {
	first := lfsched.FindSeeded(t, lfsched.Config{PreemptionBound: 2}, lfReserveComplete(2, 2, true))
	if !strings.Contains(first.Err.Error(), "twice") && !strings.Contains(first.Err.Error(), "Read") && !strings.Contains(first.Err.Error(), "replay") {
		t.Fatalf("unexpected failure: %v", first)
	}
	_, err := lfsched.Replay(lfsched.Config{}, first.Choices, lfReserveComplete(2, 2, true))
	if err == nil {
		t.Fatal("replaying the failing schedule passed")
	}
}
