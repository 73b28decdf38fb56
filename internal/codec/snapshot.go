package codec

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/sledgo/sled/internal/node"
)

// SnapshotMagic starts every snapshot file.
const SnapshotMagic = "SLEDSNAP"

// SnapshotVersion is the snapshot version this package writes and reads.
const SnapshotVersion = 2 // 2: page locations carry their sizes

// MaxPageLocs is the most log positions a snapshot keeps for one page: its
// last image and the deltas logged after it.
const MaxPageLocs = 16

// Snapshot is the page table as of a log position, written to a file and
// read at Open; recovery replays the log from LSN on top of it.
type Snapshot struct {
	LSN      uint64 // replay the log from here
	NextPage uint64 // highest page id ever allocated; every page id in the snapshot is <= it
	IDHigh   uint64 // GenerateID high-water
	Trees    []TreeEntry
	Pages    []PageEntry
	Free     []FreeEntry
}

// TreeEntry is one named tree.
type TreeEntry struct {
	Name       string
	Root       node.PageID
	CreatedLSN uint64
}

// PageEntry locates one page in the log: Locs holds the log positions of the
// page's last image and then of its deltas, in order (1..MaxPageLocs), and
// Sizes the bytes each of them occupies on disk (for the log cleaner's
// accounting; nil is written as zeros and read back as nil).
type PageEntry struct {
	ID    node.PageID
	Locs  []uint64
	Sizes []uint32
}

// FreeEntry is a freed page and the LSN of the record that freed it.
type FreeEntry struct {
	ID  node.PageID
	LSN uint64
}

// Smallest encodings, used to bound counts by the bytes left.
const (
	minTreeBytes = 3 // name length, root, created LSN
	minPageBytes = 3 // id, location count, one location
	minFreeBytes = 2 // id, LSN
	snapCRCBytes = 4
)

func snapCorruptf(format string, args ...any) error {
	return fmt.Errorf("%w: snapshot: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// checkSnapshot reports why s cannot be written; the reader enforces the
// same rules as it decodes.
func checkSnapshot(s *Snapshot) error {
	names := make(map[string]bool, len(s.Trees))
	for _, t := range s.Trees {
		if err := checkTree(s, t); err != nil {
			return err
		}
		if names[t.Name] {
			return fmt.Errorf("tree %q listed twice", t.Name)
		}
		names[t.Name] = true
	}
	for _, p := range s.Pages {
		if err := checkPageID(s, p.ID); err != nil {
			return err
		}
		if len(p.Locs) < 1 || len(p.Locs) > MaxPageLocs {
			return fmt.Errorf("page %d has %d locations (want 1..%d)", p.ID, len(p.Locs), MaxPageLocs)
		}
		if p.Sizes != nil && len(p.Sizes) != len(p.Locs) {
			return fmt.Errorf("page %d has %d locations and %d sizes", p.ID, len(p.Locs), len(p.Sizes))
		}
	}
	for _, f := range s.Free {
		if err := checkPageID(s, f.ID); err != nil {
			return err
		}
	}
	return nil
}

func checkTree(s *Snapshot, t TreeEntry) error {
	if err := checkPageID(s, t.Root); err != nil {
		return fmt.Errorf("tree %q root: %w", t.Name, err)
	}
	return nil
}

func checkPageID(s *Snapshot, id node.PageID) error {
	if id == 0 || uint64(id) > s.NextPage {
		return fmt.Errorf("page id %d outside 1..%d", id, s.NextPage)
	}
	return nil
}

// crcWriter forwards writes and checksums them.
type crcWriter struct {
	w   io.Writer
	crc uint32
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	return n, err
}

// WriteSnapshot writes s to w (see doc.go, "Snapshot"), streaming through a
// buffer, and flushes; it does not sync or close w. It returns an error
// without writing anything if s breaks a rule ReadSnapshot enforces.
func WriteSnapshot(w io.Writer, s *Snapshot) error {
	if err := checkSnapshot(s); err != nil {
		return fmt.Errorf("codec: snapshot not written: %w", err)
	}
	cw := &crcWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	// Each item is staged in buf (bounded by the longest tree name) and
	// then copied into the buffered writer.
	buf := make([]byte, 0, 256)
	flush := func() error {
		_, err := bw.Write(buf)
		buf = buf[:0]
		return err
	}
	buf = append(buf, SnapshotMagic...)
	buf = binary.AppendUvarint(buf, SnapshotVersion)
	buf = binary.AppendUvarint(buf, s.LSN)
	buf = binary.AppendUvarint(buf, s.NextPage)
	buf = binary.AppendUvarint(buf, s.IDHigh)
	buf = binary.AppendUvarint(buf, uint64(len(s.Trees)))
	for _, t := range s.Trees {
		buf = binary.AppendUvarint(buf, uint64(len(t.Name)))
		buf = append(buf, t.Name...)
		buf = binary.AppendUvarint(buf, uint64(t.Root))
		buf = binary.AppendUvarint(buf, t.CreatedLSN)
		if err := flush(); err != nil {
			return err
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(s.Pages)))
	for _, p := range s.Pages {
		buf = binary.AppendUvarint(buf, uint64(p.ID))
		buf = binary.AppendUvarint(buf, uint64(len(p.Locs)))
		for j, l := range p.Locs {
			buf = binary.AppendUvarint(buf, l)
			var size uint32
			if p.Sizes != nil {
				size = p.Sizes[j]
			}
			buf = binary.AppendUvarint(buf, uint64(size))
		}
		if err := flush(); err != nil {
			return err
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(s.Free)))
	for _, f := range s.Free {
		buf = binary.AppendUvarint(buf, uint64(f.ID))
		buf = binary.AppendUvarint(buf, f.LSN)
		if err := flush(); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	var c [snapCRCBytes]byte
	binary.LittleEndian.PutUint32(c[:], cw.crc)
	_, err := w.Write(c[:])
	return err
}

// snapReader reads a snapshot through its own buffer so that the checksum
// covers exactly the bytes decoded: consumed bytes are hashed when the
// buffer is compacted and at the end, never the read-ahead (which holds the
// trailing checksum).
type snapReader struct {
	r        io.Reader
	buf      []byte
	pos, end int    // buf[pos:end] is read but not yet consumed
	crc      uint32 // over consumed bytes before buf[0]
	read     int64  // bytes read from r
	maxBytes int64
	eof      bool
}

// fill tries to have at least need unconsumed bytes buffered (need <=
// len(buf)); fewer are buffered only at the end of the input.
func (d *snapReader) fill(need int) error {
	for d.end-d.pos < need && !d.eof {
		if d.pos > 0 {
			d.crc = crc32.Update(d.crc, castagnoli, d.buf[:d.pos])
			d.end = copy(d.buf, d.buf[d.pos:d.end])
			d.pos = 0
		}
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		d.read += int64(n)
		if d.read > d.maxBytes {
			return snapCorruptf("longer than %d bytes", d.maxBytes)
		}
		if err == io.EOF {
			d.eof = true
		} else if err != nil {
			return fmt.Errorf("codec: snapshot: read: %w", err)
		}
	}
	return nil
}

// left is an upper bound on the bytes left to decode before the checksum.
func (d *snapReader) left() int64 {
	consumed := d.read - int64(d.end-d.pos)
	return d.maxBytes - consumed - snapCRCBytes
}

func (d *snapReader) uvarint(what string) (uint64, error) {
	if err := d.fill(binary.MaxVarintLen64); err != nil {
		return 0, err
	}
	v, n, ok := readUvarint(d.buf[d.pos:d.end])
	if !ok {
		return 0, snapCorruptf("bad %s", what)
	}
	d.pos += n
	return v, nil
}

// count reads a count of items of at least minBytes each and checks it
// against the bytes left.
func (d *snapReader) count(what string, minBytes int64) (int, error) {
	n, err := d.uvarint(what + " count")
	if err != nil {
		return 0, err
	}
	if left := d.left(); left < 0 || n > uint64(left/minBytes) {
		return 0, snapCorruptf("%d %s in at most %d bytes", n, what, max(left, 0))
	}
	return int(n), nil
}

// bytes reads exactly n bytes into a new slice. The slice grows with the
// bytes actually read, so a damaged n allocates no more than the input holds
// even when maxBytes is only a loose bound.
func (d *snapReader) bytes(n int) ([]byte, error) {
	out := make([]byte, 0, min(n, len(d.buf)))
	for len(out) < n {
		if err := d.fill(1); err != nil {
			return nil, err
		}
		if d.pos == d.end {
			return nil, snapCorruptf("truncated")
		}
		c := min(n-len(out), d.end-d.pos)
		out = append(out, d.buf[d.pos:d.pos+c]...)
		d.pos += c
	}
	return out, nil
}

// maxPrealloc caps the items allocated for a count before they are read: a
// count is checked against maxBytes, which a caller may pass as a loose
// bound, so beyond this the slice grows with the items actually read.
const maxPrealloc = 1 << 16

// ReadSnapshot reads a snapshot written by WriteSnapshot, reading at most
// maxBytes from r (pass the file size: counts are checked against it before
// anything is allocated for them). It verifies the magic, the version, the
// trailing CRC32C and every rule WriteSnapshot checks; damage is reported
// wrapping ErrCorrupt, read errors of r as themselves. Empty lists decode as
// nil.
func ReadSnapshot(r io.Reader, maxBytes int64) (*Snapshot, error) {
	d := &snapReader{r: r, buf: make([]byte, 64<<10), maxBytes: maxBytes}
	if err := d.fill(len(SnapshotMagic)); err != nil {
		return nil, err
	}
	if d.end < len(SnapshotMagic) || string(d.buf[:len(SnapshotMagic)]) != SnapshotMagic {
		return nil, snapCorruptf("not a sled snapshot")
	}
	d.pos = len(SnapshotMagic)
	v, err := d.uvarint("version")
	if err != nil {
		return nil, err
	}
	if v != SnapshotVersion {
		// Only a damaged file reaches here today: version 1 is the only
		// one ever written.
		return nil, snapCorruptf("version %d is not supported (want %d)", v, SnapshotVersion)
	}
	s := &Snapshot{}
	if s.LSN, err = d.uvarint("lsn"); err != nil {
		return nil, err
	}
	if s.NextPage, err = d.uvarint("next page"); err != nil {
		return nil, err
	}
	if s.IDHigh, err = d.uvarint("id high"); err != nil {
		return nil, err
	}
	if err := d.readTrees(s); err != nil {
		return nil, err
	}
	if err := d.readPages(s); err != nil {
		return nil, err
	}
	if err := d.readFree(s); err != nil {
		return nil, err
	}
	// Buffer the trailer (and one byte more, to see the end of the input),
	// checksum everything consumed, and compare. fill hashes what it
	// compacts away, so hash the rest only after it.
	if err := d.fill(snapCRCBytes + 1); err != nil {
		return nil, err
	}
	d.crc = crc32.Update(d.crc, castagnoli, d.buf[:d.pos])
	switch rest := d.end - d.pos; {
	case rest < snapCRCBytes:
		return nil, snapCorruptf("truncated checksum")
	case rest > snapCRCBytes:
		return nil, snapCorruptf("data after the checksum")
	}
	if want := binary.LittleEndian.Uint32(d.buf[d.pos:d.end]); want != d.crc {
		return nil, snapCorruptf("checksum mismatch (%#08x, want %#08x)", d.crc, want)
	}
	return s, nil
}

func (d *snapReader) readTrees(s *Snapshot) error {
	n, err := d.count("trees", minTreeBytes)
	if err != nil || n == 0 {
		return err
	}
	s.Trees = make([]TreeEntry, 0, min(n, maxPrealloc))
	names := make(map[string]bool, min(n, maxPrealloc))
	for range n {
		s.Trees = append(s.Trees, TreeEntry{})
		t := &s.Trees[len(s.Trees)-1]
		l, err := d.uvarint("tree name length")
		if err != nil {
			return err
		}
		if left := d.left(); left < 0 || l > uint64(left) {
			return snapCorruptf("tree name of %d bytes", l)
		}
		name, err := d.bytes(int(l))
		if err != nil {
			return err
		}
		t.Name = string(name)
		root, err := d.uvarint("tree root")
		if err != nil {
			return err
		}
		t.Root = node.PageID(root)
		if t.CreatedLSN, err = d.uvarint("tree lsn"); err != nil {
			return err
		}
		if err := checkTree(s, *t); err != nil {
			return snapCorruptf("%v", err)
		}
		if names[t.Name] {
			return snapCorruptf("tree %q listed twice", t.Name)
		}
		names[t.Name] = true
	}
	return nil
}

func (d *snapReader) readPages(s *Snapshot) error {
	n, err := d.count("pages", minPageBytes)
	if err != nil || n == 0 {
		return err
	}
	s.Pages = make([]PageEntry, 0, min(n, maxPrealloc))
	// Locations are carved from shared slabs (capped so appends never run
	// into a neighbour) instead of one allocation per page.
	var slab []uint64
	for i := range n {
		s.Pages = append(s.Pages, PageEntry{})
		p := &s.Pages[i]
		id, err := d.uvarint("page id")
		if err != nil {
			return err
		}
		p.ID = node.PageID(id)
		if err := checkPageID(s, p.ID); err != nil {
			return snapCorruptf("%v", err)
		}
		nl, err := d.uvarint("location count")
		if err != nil {
			return err
		}
		if nl < 1 || nl > MaxPageLocs {
			return snapCorruptf("page %d has %d locations (want 1..%d)", p.ID, nl, MaxPageLocs)
		}
		if len(slab) < int(nl) {
			slab = make([]uint64, min(4096, MaxPageLocs*(n-i)))
		}
		p.Locs, slab = slab[:nl:nl], slab[nl:]
		var sizes []uint32
		for j := range p.Locs {
			if p.Locs[j], err = d.uvarint("location"); err != nil {
				return err
			}
			size, err := d.uvarint("size")
			if err != nil {
				return err
			}
			if size > 1<<31 {
				return snapCorruptf("page %d location %d has size %d", p.ID, j, size)
			}
			if size != 0 && sizes == nil {
				sizes = make([]uint32, nl)
			}
			if sizes != nil {
				sizes[j] = uint32(size)
			}
		}
		p.Sizes = sizes
	}
	return nil
}

func (d *snapReader) readFree(s *Snapshot) error {
	n, err := d.count("free pages", minFreeBytes)
	if err != nil || n == 0 {
		return err
	}
	s.Free = make([]FreeEntry, 0, min(n, maxPrealloc))
	for range n {
		s.Free = append(s.Free, FreeEntry{})
		f := &s.Free[len(s.Free)-1]
		id, err := d.uvarint("free page id")
		if err != nil {
			return err
		}
		f.ID = node.PageID(id)
		if err := checkPageID(s, f.ID); err != nil {
			return snapCorruptf("%v", err)
		}
		if f.LSN, err = d.uvarint("free lsn"); err != nil {
			return err
		}
	}
	return nil
}
