package sled

// The META file: what must stay the same over a database's whole life.

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

const (
	metaFileName = "META"
	// metaVersion is the format this sled writes. Version 2: page images
	// may be in the flat form (internal/codec; written in HighThroughput
	// mode, and a database may be opened in either mode), which sleds that
	// write version 1 cannot read; they refuse a version 2 META with a clear
	// error instead of calling the images corrupt. Version 3: structure
	// changes are logged as fragments (a split's left half, a separator
	// posted to an index node: node.DeltaSplit, node.DeltaChild), which
	// sleds that write version 2 would call corrupt. Version 4: multi-key
	// commits (transactions, batches) log redo and end records
	// (codec.SecTxRedo, SecTxEnd) instead of log batch markers, which
	// sleds that write version 3 would call corrupt. This sled reads
	// versions 1 to 4, and raises an older META to 4 when it opens the
	// database for writing.
	metaVersion = 4
)

// meta is the content of META. The log's segment size fixes how LSNs map
// to segment files, so it is chosen when the database is created and kept:
// Config.SegmentSizeBytes applies to new databases only.
type meta struct {
	version          int // 0 when encoding means metaVersion
	segmentSizeBytes int
}

// encodeMeta renders m as text with a CRC-32 of the lines before it:
//
//	sled-meta 4
//	segment-size-bytes 8388608
//	crc32 1a2b3c4d
func encodeMeta(m meta) []byte {
	v := m.version
	if v == 0 {
		v = metaVersion
	}
	body := fmt.Sprintf("sled-meta %d\nsegment-size-bytes %d\n", v, m.segmentSizeBytes)
	return fmt.Appendf(nil, "%scrc32 %08x\n", body, crc32.ChecksumIEEE([]byte(body)))
}

// decodeMeta parses META; every failure matches ErrCorruption.
func decodeMeta(b []byte) (meta, error) {
	bad := func(why string) (meta, error) {
		return meta{}, corruption(fmt.Errorf("sled: %s file: %s", metaFileName, why))
	}
	s := string(b)
	i := strings.LastIndex(s, "crc32 ")
	if i < 0 || !strings.HasSuffix(s, "\n") {
		return bad("no checksum line")
	}
	sum, err := strconv.ParseUint(strings.TrimSpace(s[i+len("crc32 "):]), 16, 32)
	if err != nil || uint32(sum) != crc32.ChecksumIEEE([]byte(s[:i])) {
		return bad("checksum mismatch")
	}
	lines := strings.Split(strings.TrimSuffix(s[:i], "\n"), "\n")
	if len(lines) < 2 {
		return bad("too short")
	}
	var m meta
	if v, ok := strings.CutPrefix(lines[0], "sled-meta "); !ok {
		return bad("no header")
	} else if n, err := strconv.Atoi(v); err != nil || n < 1 || n > metaVersion || v != strconv.Itoa(n) {
		return meta{}, fmt.Errorf("sled: %s file has format version %q; this version of sled reads 1 to %d", metaFileName, v, metaVersion)
	} else {
		m.version = n
	}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		if k == "segment-size-bytes" {
			if m.segmentSizeBytes, err = strconv.Atoi(v); err != nil || m.segmentSizeBytes < 64<<10 || m.segmentSizeBytes > 1<<30 {
				return bad("bad segment size " + strconv.Quote(v))
			}
		}
	}
	if m.segmentSizeBytes == 0 {
		return bad("no segment size")
	}
	return m, nil
}

// loadMeta reads META; ok is false when the file does not exist (a new
// database, or one made before META existed).
func (db *DB) loadMeta() (m meta, ok bool, err error) {
	path := db.fs.PathJoin(db.dir, metaFileName)
	f, err := db.fs.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return meta{}, false, nil
	}
	if err != nil {
		return meta{}, false, fmt.Errorf("sled: opening %s: %w", path, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return meta{}, false, err
	}
	if size > 4<<10 {
		return meta{}, false, corruption(fmt.Errorf("sled: %s file of %d bytes", metaFileName, size))
	}
	b, err := io.ReadAll(io.NewSectionReader(f, 0, size))
	if err != nil {
		return meta{}, false, fmt.Errorf("sled: reading %s: %w", path, err)
	}
	m, err = decodeMeta(b)
	return m, err == nil, err
}

// storeMeta writes META atomically and durably.
func (db *DB) storeMeta(m meta) error {
	return db.writeFileAtomic(metaFileName, func(w io.Writer) error {
		_, err := w.Write(encodeMeta(m))
		return err
	})
}

// writeFileAtomic writes the file name of the database's directory so that
// after a crash it is either absent (or its older version) or whole and
// durable: a temporary file, synced, renamed over name, the directory
// synced. A failure removes the temporary file.
func (db *DB) writeFileAtomic(name string, write func(io.Writer) error) error {
	path := db.fs.PathJoin(db.dir, name)
	f, err := db.fs.Create(path + ".tmp")
	if err != nil {
		return fmt.Errorf("sled: writing %s: %w", path, err)
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = db.fs.Rename(path+".tmp", path)
	}
	if err == nil {
		err = db.fs.SyncDir(db.dir)
	}
	if err != nil {
		db.fs.Remove(path + ".tmp")
		return fmt.Errorf("sled: writing %s: %w", path, err)
	}
	return nil
}

// settleMeta makes the database's META and the configuration agree: an
// existing META wins over Config.SegmentSizeBytes; a database without one
// gets one (unless read-only).
func (db *DB) settleMeta() error {
	m, ok, err := db.loadMeta()
	if err != nil {
		return err
	}
	if ok {
		db.cfg.SegmentSizeBytes = m.segmentSizeBytes
		if m.version < metaVersion && !db.cfg.ReadOnly {
			// This sled may now write what older ones cannot read: say so
			// before it writes anything.
			return db.storeMeta(meta{version: metaVersion, segmentSizeBytes: m.segmentSizeBytes})
		}
		return nil
	}
	if db.cfg.ReadOnly {
		return nil // a database from before META: the configured size
	}
	return db.storeMeta(meta{version: metaVersion, segmentSizeBytes: db.cfg.SegmentSizeBytes})
}
