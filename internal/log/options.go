package log

import (
	"errors"
	"fmt"
	"time"

	"github.com/sledgo/sled/vfs"
)

// Defaults and limits of Options.
const (
	DefaultSegmentSizeBytes = 8 << 20
	MinSegmentSizeBytes     = 64 << 10
	MaxSegmentSizeBytes     = 1 << 30
	MaxBufferSizeBytes      = 16 << 20
	MinBufferSizeBytes      = 1 << 10
	DefaultBuffers          = 8
	MinBuffers              = 2
	MaxBuffers              = 1024
	DefaultFlushEvery       = 500 * time.Millisecond
)

// Options configures a Log. The zero value of every field but FS and Dir
// selects its default (EnsureDefaults).
type Options struct {
	// FS is the file system of the log. Required.
	FS vfs.FS
	// Dir holds the segment and blob files; it is created if missing.
	Dir string
	// MinEnd is an LSN the log is known to reach durably (a snapshot was
	// taken there). A valid end below it is corruption (ErrCorrupt), not a
	// torn tail, and nothing is cleaned. 0 = unknown.
	MinEnd LSN
	// OnNewSegment, when set, is called by the I/O goroutine after it
	// created a segment file. It must not block.
	OnNewSegment func(seg uint64)
	// SegmentSizeBytes is the size of one segment file. Default 8 MiB,
	// at least 64 KiB, at most 1 GiB.
	SegmentSizeBytes int
	// BufferSizeBytes is the size of one in-memory I/O buffer. Default
	// min(1 MiB, SegmentSizeBytes/2); between 1 KiB and
	// min(16 MiB, SegmentSizeBytes/2). Records whose frame is larger than
	// half a buffer go out of line to blob files.
	BufferSizeBytes int
	// Buffers is the number of buffers in the ring (bounding the memory
	// of appends in flight). Default 8, between 2 and 1024.
	Buffers int
	// ReadOnly opens an existing log for reading: Open writes nothing (no
	// directory is created, a torn tail is left as it is and nothing is
	// synced) and every writing method fails with ErrReadOnly.
	ReadOnly bool
	// FlushEvery is the period of the background flush. 0 selects 500ms;
	// a negative value disables the background flush.
	FlushEvery time.Duration
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *Options) EnsureDefaults() {
	if o.SegmentSizeBytes == 0 {
		o.SegmentSizeBytes = DefaultSegmentSizeBytes
	}
	if o.BufferSizeBytes == 0 {
		o.BufferSizeBytes = min(1<<20, o.SegmentSizeBytes/2)
	}
	if o.Buffers == 0 {
		o.Buffers = DefaultBuffers
	}
	if o.FlushEvery == 0 {
		o.FlushEvery = DefaultFlushEvery
	}
}

// Validate reports every problem of o at once.
func (o *Options) Validate() error {
	var errs []error
	if o.FS == nil {
		errs = append(errs, errors.New("log: Options.FS is nil"))
	}
	if o.Dir == "" {
		errs = append(errs, errors.New("log: Options.Dir is empty"))
	}
	if o.SegmentSizeBytes < MinSegmentSizeBytes || o.SegmentSizeBytes > MaxSegmentSizeBytes {
		errs = append(errs, fmt.Errorf("log: SegmentSizeBytes %d not in [%d, %d]",
			o.SegmentSizeBytes, MinSegmentSizeBytes, MaxSegmentSizeBytes))
	}
	if maxBuf := min(MaxBufferSizeBytes, o.SegmentSizeBytes/2); o.BufferSizeBytes < MinBufferSizeBytes || o.BufferSizeBytes > maxBuf {
		errs = append(errs, fmt.Errorf("log: BufferSizeBytes %d not in [%d, %d]",
			o.BufferSizeBytes, MinBufferSizeBytes, maxBuf))
	}
	if o.Buffers < MinBuffers || o.Buffers > MaxBuffers {
		errs = append(errs, fmt.Errorf("log: Buffers %d not in [%d, %d]", o.Buffers, MinBuffers, MaxBuffers))
	}
	return errors.Join(errs...)
}
