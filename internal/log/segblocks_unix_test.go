//go:build unix

package log

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sledgo/sled/vfs"
)

// A new segment takes disk blocks only as the log writes it (and zeroAhead
// ahead of that), not its whole size: a small database's files are not
// a full segment larger than what it wrote.
func TestSegmentBlocksAllocatedAsWritten(t *testing.T) {
	dir := t.TempDir()
	opts := smallOpts(vfs.Default)
	opts.Dir = dir
	opts.SegmentSizeBytes = 8 << 20
	l, err := Open(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 10 {
		if _, err := l.Append(1, bytes.Repeat([]byte{7}, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, segName(0))
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Size() != int64(opts.SegmentSizeBytes) {
		t.Fatalf("segment size %d, want %d", fi.Size(), opts.SegmentSizeBytes)
	}
	if alloc := st.Blocks * 512; alloc > 2*zeroAheadBytes {
		t.Fatalf("a segment holding 1 KB of records takes %d bytes of disk (want at most %d)", alloc, 2*zeroAheadBytes)
	}
}
