package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
)

// blobHeaderSize is the size of a blob file's header:
// crc32c (4) | lsn (8) | kind (1) | body length (8).
const blobHeaderSize = 21

// writeBlob writes the body of the record at lsn to its blob file and makes
// the file and its directory entry durable (L8). It returns the checksum
// the pointer record must carry.
func (l *Log) writeBlob(lsn LSN, kind Kind, body []byte) (crc uint32, err error) {
	var hdr [blobHeaderSize]byte
	binary.LittleEndian.PutUint64(hdr[4:12], uint64(lsn))
	hdr[12] = byte(kind)
	binary.LittleEndian.PutUint64(hdr[13:21], uint64(len(body)))
	crc = crc32.Update(crc32.Checksum(hdr[4:], castagnoli), castagnoli, body)
	binary.LittleEndian.PutUint32(hdr[0:4], crc)

	name := blobName(lsn)
	f, err := l.fs.Create(l.path(name))
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", name, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", name, cerr)
		}
	}()
	if _, err := f.WriteAt(hdr[:], 0); err != nil {
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := f.WriteAt(body, blobHeaderSize); err != nil {
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("sync %s: %w", name, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return 0, fmt.Errorf("sync directory: %w", err)
	}
	return crc, nil
}

// readBlob reads and checks the blob of the pointer record at lsn.
func (l *Log) readBlob(lsn LSN, ptr blobPointer) ([]byte, error) {
	name := blobName(lsn)
	f, err := l.fs.Open(l.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: blob %s of LSN %d is missing", ErrCorrupt, name, lsn)
	}
	if err != nil {
		return nil, fmt.Errorf("log: open %s: %w", name, err)
	}
	defer f.Close() // read-only
	size, err := f.Size()
	if err != nil {
		return nil, fmt.Errorf("log: size of %s: %w", name, err)
	}
	if uint64(size) != blobHeaderSize+ptr.size {
		return nil, fmt.Errorf("%w: blob %s has %d bytes, want %d", ErrCorrupt, name, size, blobHeaderSize+ptr.size)
	}
	buf := make([]byte, size)
	if n, err := f.ReadAt(buf, 0); n != len(buf) {
		return nil, fmt.Errorf("log: read %s: %w", name, err)
	}
	crc := binary.LittleEndian.Uint32(buf[0:4])
	switch {
	case crc != ptr.crc:
		return nil, fmt.Errorf("%w: blob %s does not match its pointer", ErrCorrupt, name)
	case crc32.Checksum(buf[4:], castagnoli) != crc:
		return nil, fmt.Errorf("%w: blob %s checksum mismatch", ErrCorrupt, name)
	case LSN(binary.LittleEndian.Uint64(buf[4:12])) != lsn || Kind(buf[12]) != ptr.kind ||
		binary.LittleEndian.Uint64(buf[13:21]) != ptr.size:
		return nil, fmt.Errorf("%w: blob %s header does not match its pointer", ErrCorrupt, name)
	}
	return buf[blobHeaderSize:], nil
}
