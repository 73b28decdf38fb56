package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/sledgo/sled/internal/node"
)

// FuzzReadSnapshotChunked: ReadSnapshot's own buffering (compaction, the
// checksum over consumed bytes only, the held-back trailer) does not change
// what it decodes. The input read in chunks of a fuzzed size, or one byte at
// a time, or with a loose maxBytes, decodes to the same snapshot as read at
// once with the exact size, or fails with ErrCorrupt (or, for the loose
// bound, a different corruption message); a maxBytes below the input size
// always fails with ErrCorrupt. FuzzReadSnapshot checks the byte-exact round
// trip of what decodes.
func FuzzReadSnapshotChunked(f *testing.F) {
	f.Add(encodeSnapshot(f, smallSnapshot()), uint16(1), uint16(0))
	f.Add(encodeSnapshot(f, smallSnapshot()), uint16(7), uint16(100))
	f.Add(encodeSnapshot(f, &Snapshot{}), uint16(3), uint16(1))
	f.Add(encodeSnapshot(f, bigSnapshot()), uint16(4093), uint16(9))
	f.Add(withCRC(append(snapHeader(9), 0, 1, 1, 't', 1, 0, 1, 1, 1, 5, 1, 2, 3)), uint16(2), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, chunk, slack uint16) {
		want, wantErr := readSnap(data)
		if wantErr != nil && !errors.Is(wantErr, ErrCorrupt) {
			t.Fatalf("error does not wrap ErrCorrupt: %v", wantErr)
		}
		same := func(how string, got *Snapshot, err error, sameErr bool) {
			t.Helper()
			if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %+v, %v\nat once: %+v, %v", how, got, err, want, wantErr)
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: error does not wrap ErrCorrupt: %v", how, err)
			}
			if sameErr && fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("%s: error %v, at once %v", how, err, wantErr)
			}
		}
		n := int64(len(data))
		got, err := ReadSnapshot(&chunkReader{data: data, chunk: 1 + int(chunk)}, n)
		same(fmt.Sprintf("chunks of %d", 1+int(chunk)), got, err, true)
		got, err = ReadSnapshot(iotest.OneByteReader(bytes.NewReader(data)), n)
		same("one byte at a time", got, err, true)
		got, err = ReadSnapshot(bytes.NewReader(data), n+int64(slack))
		same(fmt.Sprintf("maxBytes %d over", slack), got, err, slack == 0)
		if n > 0 {
			_, err = ReadSnapshot(bytes.NewReader(data), n-1-int64(slack)%n)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("maxBytes below the size: %v", err)
			}
		}
	})
}

// chunkReader returns at most chunk bytes per Read, and io.EOF together
// with the last bytes.
type chunkReader struct {
	data  []byte
	chunk int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[:min(len(r.data), r.chunk)])
	r.data = r.data[n:]
	if len(r.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// bigSnapshot is larger than ReadSnapshot's 64 KiB buffer, so decoding it
// compacts the buffer.
func bigSnapshot() *Snapshot {
	s := &Snapshot{LSN: 1 << 33, NextPage: 1 << 20, IDHigh: 5}
	for i := range 6000 {
		s.Pages = append(s.Pages, PageEntry{ID: 1 + node.PageID(i), Locs: []uint64{uint64(i) << 20, 1 << 40}, Sizes: []uint32{uint32(i), 0}})
	}
	return s
}
