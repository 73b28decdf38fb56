package codec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// DumpMagic starts every dump.
const DumpMagic = "SLEDDUMP"

// DumpVersion is the version this package writes and reads.
const DumpVersion = 1

const (
	recTree  = 'T'
	recEntry = 'E'
	recEnd   = 'Z'
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Limits a decoder enforces before allocating.
type Limits struct {
	MaxKeyBytes   int
	MaxValueBytes int
	MaxNameBytes  int
}

// DumpWriter writes a dump.
type DumpWriter struct {
	w       *bufio.Writer
	entries uint64
	scratch []byte
	err     error
}

// NewDumpWriter writes the header to w.
func NewDumpWriter(w io.Writer) *DumpWriter {
	d := &DumpWriter{w: bufio.NewWriterSize(w, 64<<10)}
	d.scratch = append(d.scratch[:0], DumpMagic...)
	d.scratch = binary.AppendUvarint(d.scratch, DumpVersion)
	_, d.err = d.w.Write(d.scratch)
	return d
}

func (d *DumpWriter) record(kind byte, parts ...[]byte) error {
	if d.err != nil {
		return d.err
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	hdr := append(d.scratch[:0], kind)
	hdr = binary.AppendUvarint(hdr, uint64(n))
	crc := crc32.Update(0, castagnoli, hdr)
	for _, p := range parts {
		crc = crc32.Update(crc, castagnoli, p)
	}
	if _, d.err = d.w.Write(hdr); d.err != nil {
		return d.err
	}
	for _, p := range parts {
		if _, d.err = d.w.Write(p); d.err != nil {
			return d.err
		}
	}
	var c [4]byte
	binary.LittleEndian.PutUint32(c[:], crc)
	_, d.err = d.w.Write(c[:])
	return d.err
}

// Tree starts the entries of tree name.
func (d *DumpWriter) Tree(name string) error { return d.record(recTree, []byte(name)) }

// Entry adds one entry to the current tree.
func (d *DumpWriter) Entry(key, value []byte) error {
	d.entries++
	var l [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(l[:], uint64(len(key)))
	return d.record(recEntry, l[:n], key, value)
}

// Close writes the end record and flushes. It does not close the writer.
func (d *DumpWriter) Close() error {
	var l [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(l[:], d.entries)
	if err := d.record(recEnd, l[:n]); err != nil {
		return err
	}
	return d.w.Flush()
}

// DumpReader reads a dump, verifying every record.
type DumpReader struct {
	r       *bufio.Reader
	lim     Limits
	tree    string
	inTree  bool
	lastKey []byte // the current tree's last key, valid when haveKey
	haveKey bool
	entries uint64
	done    bool
	buf     []byte
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: dump: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// NewDumpReader reads and checks the header.
func NewDumpReader(r io.Reader, lim Limits) (*DumpReader, error) {
	d := &DumpReader{r: bufio.NewReaderSize(r, 64<<10), lim: lim}
	magic := make([]byte, len(DumpMagic))
	if _, err := io.ReadFull(d.r, magic); err != nil {
		return nil, corruptf("short header: %v", err)
	}
	if string(magic) != DumpMagic {
		return nil, corruptf("not a sled dump (magic %q)", magic)
	}
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		return nil, corruptf("bad version: %v", err)
	}
	if v != DumpVersion {
		return nil, fmt.Errorf("codec: dump version %d is not supported (want %d)", v, DumpVersion)
	}
	return d, nil
}

// DumpRecord is one decoded record: the start of a tree (Key == nil) or an
// entry of the current tree.
type DumpRecord struct {
	Tree  string
	Key   []byte // nil for a tree record; valid until the next call
	Value []byte // valid until the next call
}

// Next returns the next record. ok is false after the end record.
func (d *DumpReader) Next() (rec DumpRecord, ok bool, err error) {
	if d.done {
		return DumpRecord{}, false, nil
	}
	kind, body, err := d.readRecord()
	if err != nil {
		return DumpRecord{}, false, err
	}
	switch kind {
	case recTree:
		if len(body) > d.lim.MaxNameBytes {
			return DumpRecord{}, false, corruptf("tree name of %d bytes", len(body))
		}
		d.tree, d.inTree, d.haveKey = string(body), true, false
		return DumpRecord{Tree: d.tree}, true, nil
	case recEntry:
		if !d.inTree {
			return DumpRecord{}, false, corruptf("entry before any tree")
		}
		kl, n := binary.Uvarint(body)
		if n <= 0 || kl > uint64(len(body)-n) {
			return DumpRecord{}, false, corruptf("bad key length")
		}
		key := body[n : n+int(kl) : n+int(kl)]
		val := body[n+int(kl):]
		if len(key) > d.lim.MaxKeyBytes || len(val) > d.lim.MaxValueBytes {
			return DumpRecord{}, false, corruptf("entry of %d/%d bytes exceeds limits", len(key), len(val))
		}
		if d.haveKey && bytes.Compare(key, d.lastKey) <= 0 {
			return DumpRecord{}, false, corruptf("keys out of order in tree %q", d.tree)
		}
		d.lastKey, d.haveKey = append(d.lastKey[:0], key...), true
		d.entries++
		return DumpRecord{Tree: d.tree, Key: key, Value: val}, true, nil
	case recEnd:
		cnt, n := binary.Uvarint(body)
		if n != len(body) || cnt != d.entries {
			return DumpRecord{}, false, corruptf("end record counts %d entries, read %d", cnt, d.entries)
		}
		if _, err := d.r.ReadByte(); err != io.EOF {
			return DumpRecord{}, false, corruptf("data after the end record")
		}
		d.done = true
		return DumpRecord{}, false, nil
	default:
		return DumpRecord{}, false, corruptf("unknown record kind %#x", kind)
	}
}

func (d *DumpReader) readRecord() (byte, []byte, error) {
	kind, err := d.r.ReadByte()
	if err == io.EOF {
		return 0, nil, corruptf("truncated: no end record")
	}
	if err != nil {
		return 0, nil, err
	}
	n, err := binary.ReadUvarint(d.r)
	if err != nil {
		return 0, nil, corruptf("bad record length: %v", err)
	}
	max := uint64(d.lim.MaxKeyBytes + d.lim.MaxValueBytes + 2*binary.MaxVarintLen64)
	if n > max {
		return 0, nil, corruptf("record of %d bytes exceeds limits", n)
	}
	if cap(d.buf) < int(n) {
		d.buf = make([]byte, n)
	}
	body := d.buf[:n]
	if _, err := io.ReadFull(d.r, body); err != nil {
		return 0, nil, corruptf("truncated record: %v", err)
	}
	var c [4]byte
	if _, err := io.ReadFull(d.r, c[:]); err != nil {
		return 0, nil, corruptf("truncated checksum: %v", err)
	}
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = kind
	hl := 1 + binary.PutUvarint(hdr[1:], n)
	crc := crc32.Update(crc32.Update(0, castagnoli, hdr[:hl]), castagnoli, body)
	if crc != binary.LittleEndian.Uint32(c[:]) {
		return 0, nil, corruptf("checksum mismatch in %q record", kind)
	}
	return kind, body, nil
}
