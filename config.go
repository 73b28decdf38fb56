package sled

import (
	"errors"
	"fmt"
	"time"

	"github.com/sledgo/sled/vfs"
)

// Mode trades space on disk against write throughput.
type Mode int

const (
	// LowSpace cleans the log eagerly to keep space amplification low.
	LowSpace Mode = iota
	// HighThroughput tolerates more garbage on disk for fewer rewrites.
	HighThroughput
)

func (m Mode) String() string {
	switch m {
	case LowSpace:
		return "LowSpace"
	case HighThroughput:
		return "HighThroughput"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Defaults applied by Config.Open to zero fields.
const (
	DefaultCacheCapacityBytes = 1 << 30
	DefaultFlushEvery         = 500 * time.Millisecond
	DefaultSegmentSizeBytes   = 8 << 20
	DefaultNodeMaxEntries     = 64
)

// Config describes a database to open. The zero value of every field but
// Path selects a documented default.
type Config struct {
	Path               string        // directory of the database; may be "" only when Temporary
	Temporary          bool          // remove the files on Close (a fresh temp dir when Path == "")
	CreateNew          bool          // fail with ErrExists if a database already exists at Path
	CacheCapacityBytes int64         // bound on the memory cached pages make the process hold, the collector's headroom included (README, Memory); 0 = default (1 GiB)
	Mode               Mode          // LowSpace (default) or HighThroughput
	Compression        bool          // zstd-compress what goes to disk
	CompressionLevel   int           // zstd level; 0 = default
	FlushEvery         time.Duration // background flush period; 0 = default (500ms); < 0 = never
	SegmentSizeBytes   int           // log segment size of a new database; 0 = default (8 MiB); an existing database keeps its own
	FS                 vfs.FS        // nil = the operating system

	// ReadOnly opens an existing database for reading only. It takes a
	// shared lock (other read-only opens may share the database; an open
	// for writing excludes them and they exclude it), writes nothing to the
	// directory (no recovery writes, snapshots or cleaning), and every write
	// returns ErrReadOnly. Open fails with an error matching fs.ErrNotExist
	// when there is no database at Path.
	ReadOnly bool

	// MaxSnapshotBytes bounds the memory that open snapshots (and Views)
	// make writes keep: the old values they overwrite, held as versions
	// (Snapshot). Beyond it the oldest open snapshots expire and their
	// reads return ErrSnapshotExpired. 0 = default (a quarter of
	// CacheCapacityBytes, at least 64 MiB); it is not part of the cache.
	MaxSnapshotBytes int64

	// NodeMaxEntries bounds the entries of a tree node before it splits;
	// 0 = default (64). Small values (>= 4) make structure changes frequent,
	// which tests use to exercise splits and merges.
	NodeMaxEntries int
}

// EnsureDefaults returns c with every zero field set to its default.
func (c Config) EnsureDefaults() Config {
	if c.CacheCapacityBytes == 0 {
		c.CacheCapacityBytes = DefaultCacheCapacityBytes
	}
	if c.FlushEvery == 0 {
		c.FlushEvery = DefaultFlushEvery
	}
	if c.SegmentSizeBytes == 0 {
		c.SegmentSizeBytes = DefaultSegmentSizeBytes
	}
	if c.NodeMaxEntries == 0 {
		c.NodeMaxEntries = DefaultNodeMaxEntries
	}
	if c.MaxSnapshotBytes == 0 {
		c.MaxSnapshotBytes = max(c.CacheCapacityBytes/4, 64<<20)
	}
	if c.FS == nil {
		c.FS = vfs.Default
	}
	return c
}

// Validate reports every problem of c at once; each matches ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...)))
	}
	if c.Path == "" && !c.Temporary {
		bad("Path is empty and Temporary is not set")
	}
	if c.ReadOnly && (c.Temporary || c.CreateNew) {
		bad("ReadOnly excludes Temporary and CreateNew")
	}
	if c.CacheCapacityBytes < 0 {
		bad("CacheCapacityBytes %d is negative", c.CacheCapacityBytes)
	}
	if c.Mode != LowSpace && c.Mode != HighThroughput {
		bad("unknown Mode %d", int(c.Mode))
	}
	if c.CompressionLevel < 0 || c.CompressionLevel > 22 {
		bad("CompressionLevel %d is outside 0..22", c.CompressionLevel)
	}
	if c.SegmentSizeBytes < 0 || (c.SegmentSizeBytes > 0 && c.SegmentSizeBytes < 64<<10) || c.SegmentSizeBytes > 1<<30 {
		bad("SegmentSizeBytes %d is outside 64 KiB..1 GiB", c.SegmentSizeBytes)
	}
	if c.MaxSnapshotBytes < 0 {
		bad("MaxSnapshotBytes %d is negative", c.MaxSnapshotBytes)
	}
	if c.NodeMaxEntries < 0 || (c.NodeMaxEntries > 0 && c.NodeMaxEntries < 4) || c.NodeMaxEntries > 4096 {
		bad("NodeMaxEntries %d is outside 4..4096", c.NodeMaxEntries)
	}
	return errors.Join(errs...)
}
