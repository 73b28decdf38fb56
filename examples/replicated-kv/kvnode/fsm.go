package kvnode

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
	"github.com/sledgo/sled"
)

// Commands, the Data of raft's LogCommand entries:
//
//	| op (1 byte) | uvarint len(key) | key | value (the rest; put only) |
const (
	opPut    byte = 1
	opDelete byte = 2
)

// The state tree holds every user key under userPrefix, and under
// appliedKey the index of the last log applied (8 bytes, big-endian). The
// index is written in the same sled batch as the changes it covers, so
// after a crash the two agree, and snapshots carry it.
var (
	userPrefix = []byte("k:")
	appliedKey = []byte("m:applied")
)

func userKey(key []byte) []byte {
	return append(append(make([]byte, 0, len(userPrefix)+len(key)), userPrefix...), key...)
}

// errBadCommand is returned when a command cannot be decoded.
var errBadCommand = errors.New("kvnode: malformed command")

func encodeCommand(op byte, key, value []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(key)+len(value))
	b = append(b, op)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return append(b, value...)
}

func decodeCommand(b []byte) (op byte, key, value []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errBadCommand
	}
	n, w := binary.Uvarint(b[1:])
	if w <= 0 || n > uint64(len(b)-1-w) {
		return 0, nil, nil, errBadCommand
	}
	op, key, value = b[0], b[1+w:1+w+int(n)], b[1+w+int(n):]
	if op != opPut && op != opDelete || op == opDelete && len(value) != 0 {
		return 0, nil, nil, errBadCommand
	}
	return op, key, value, nil
}

// fsm is the replicated state machine: the kv tree of a sled database. It
// is persistent: it remembers the last index applied and skips logs at or
// below it (raft replays logs after a restart). It implements
// raft.BatchingFSM, so one sled batch applies many commands.
type fsm struct {
	db *sled.DB
	kv *sled.Tree
}

func openFSM(path string) (*fsm, error) {
	db, err := sled.Config{Path: path, CacheCapacityBytes: 64 << 20}.Open()
	if err != nil {
		return nil, fmt.Errorf("kvnode: opening the state: %w", err)
	}
	f := &fsm{db: db}
	if f.kv, err = db.OpenTree("kv"); err != nil {
		db.Close()
		return nil, fmt.Errorf("kvnode: opening the state: %w", err)
	}
	return f, nil
}

func (f *fsm) applied() (uint64, error) {
	v, err := f.kv.Get(appliedKey)
	if err != nil || v == nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("kvnode: applied index of %d bytes: %w", len(v), sled.ErrCorruption)
	}
	return binary.BigEndian.Uint64(v), nil
}

// Apply implements raft.FSM.
func (f *fsm) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch implements raft.BatchingFSM. Each response is nil or an error.
// An error of sled itself (the disk failed) panics: raft has no way to
// continue with a state machine that missed a committed command.
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	applied, err := f.applied()
	if err != nil {
		panic(err)
	}
	var b sled.Batch
	last := applied
	for i, l := range logs {
		if l.Index <= applied {
			continue // applied before a restart
		}
		last = l.Index
		if l.Type != raft.LogCommand {
			continue
		}
		op, key, value, err := decodeCommand(l.Data)
		if err != nil {
			out[i] = err
			continue
		}
		if op == opPut {
			b.Insert(userKey(key), value)
		} else {
			b.Remove(userKey(key))
		}
	}
	if last == applied {
		return out
	}
	b.Insert(appliedKey, binary.BigEndian.AppendUint64(nil, last))
	if err := f.kv.ApplyBatch(&b); err != nil {
		panic(err)
	}
	return out
}

// Snapshot implements raft.FSM. raft calls it between applies, so copying
// the tree here gives a consistent state; Persist then writes it while new
// commands apply. (A copy in memory suits an example's data sizes.)
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	var s snapshot
	it := f.kv.Iter()
	defer it.Close()
	for it.Next() {
		s.pairs = append(s.pairs, [2][]byte{it.Key(), it.Value()})
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("kvnode: snapshot: %w", err)
	}
	return &s, nil
}

// Restore implements raft.FSM: it replaces the state with the snapshot's.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	r := bufio.NewReader(rc)
	if v, err := r.ReadByte(); err != nil || v != snapshotV1 {
		return fmt.Errorf("kvnode: restore: bad snapshot version (%v)", err)
	}
	if err := f.kv.Clear(); err != nil {
		return fmt.Errorf("kvnode: restore: %w", err)
	}
	var b sled.Batch
	for {
		k, err := readChunk(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("kvnode: restore: %w", err)
		}
		v, err := readChunk(r)
		if err != nil {
			return fmt.Errorf("kvnode: restore: truncated entry: %w", err)
		}
		b.Insert(k, v)
		if b.Len() >= 4096 {
			if err := f.kv.ApplyBatch(&b); err != nil {
				return fmt.Errorf("kvnode: restore: %w", err)
			}
			b = sled.Batch{}
		}
	}
	if err := f.kv.ApplyBatch(&b); err != nil {
		return fmt.Errorf("kvnode: restore: %w", err)
	}
	return f.db.Flush()
}

const snapshotV1 byte = 1

// snapshot is a copy of the kv tree (with its applied index, stored in the
// tree under appliedKey). Format: a version byte, then per entry uvarint
// len(key), key, uvarint len(value), value.
type snapshot struct {
	pairs [][2][]byte
}

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriter(sink)
	w.WriteByte(snapshotV1)
	var hdr [binary.MaxVarintLen64]byte
	for _, p := range s.pairs {
		for _, c := range p {
			w.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(c)))])
			w.Write(c)
		}
	}
	if err := w.Flush(); err != nil {
		sink.Cancel()
		return fmt.Errorf("kvnode: persisting a snapshot: %w", err)
	}
	return sink.Close()
}

func (s *snapshot) Release() {}

func readChunk(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > sled.MaxValueBytes {
		return nil, fmt.Errorf("chunk of %d bytes: %w", n, errBadCommand)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	return b, nil
}
