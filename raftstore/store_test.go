package raftstore_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/sledgo/sled"
	"github.com/sledgo/sled/raftstore"
)

func testStore(t testing.TB) (*raftstore.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "raft")
	s, err := raftstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, dir
}

func testRaftLog(idx uint64, data string) *raft.Log {
	return &raft.Log{Data: []byte(data), Index: idx}
}

// fullLog sets every field of raft.Log.
func fullLog(idx uint64) *raft.Log {
	return &raft.Log{
		Index:      idx,
		Term:       idx/10 + 1,
		Type:       raft.LogType(idx % 6),
		Data:       bytes.Repeat([]byte{byte(idx)}, int(idx%300)),
		Extensions: []byte("ext"),
		AppendedAt: time.Unix(1_700_000_000+int64(idx), int64(idx)*1000).UTC(),
	}
}

func mustGet(t testing.TB, s *raftstore.Store, idx uint64) *raft.Log {
	t.Helper()
	var l raft.Log
	if err := s.GetLog(idx, &l); err != nil {
		t.Fatalf("GetLog(%d): %v", idx, err)
	}
	return &l
}

func TestImplements(t *testing.T) {
	var s any = &raftstore.Store{}
	if _, ok := s.(raft.LogStore); !ok {
		t.Fatal("Store does not implement raft.LogStore")
	}
	if _, ok := s.(raft.StableStore); !ok {
		t.Fatal("Store does not implement raft.StableStore")
	}
	if _, ok := s.(raft.MonotonicLogStore); ok {
		t.Fatal("Store tolerates gaps: it must not claim raft.MonotonicLogStore")
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := raftstore.OpenWithOptions(raftstore.Options{}); !errors.Is(err, sled.ErrInvalidConfig) {
		t.Fatalf("empty path: %v, want ErrInvalidConfig", err)
	}
	_, dir := testStore(t)
	if _, err := raftstore.Open(dir); !errors.Is(err, sled.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestFirstIndex(t *testing.T) {
	s, _ := testStore(t)
	if idx, err := s.FirstIndex(); err != nil || idx != 0 {
		t.Fatalf("empty: %d, %v", idx, err)
	}
	if err := s.StoreLogs([]*raft.Log{testRaftLog(1, "log1"), testRaftLog(2, "log2"), testRaftLog(3, "log3")}); err != nil {
		t.Fatal(err)
	}
	if idx, err := s.FirstIndex(); err != nil || idx != 1 {
		t.Fatalf("filled: %d, %v", idx, err)
	}
}

func TestLastIndex(t *testing.T) {
	s, _ := testStore(t)
	if idx, err := s.LastIndex(); err != nil || idx != 0 {
		t.Fatalf("empty: %d, %v", idx, err)
	}
	if err := s.StoreLogs([]*raft.Log{testRaftLog(1, "log1"), testRaftLog(2, "log2"), testRaftLog(3, "log3")}); err != nil {
		t.Fatal(err)
	}
	if idx, err := s.LastIndex(); err != nil || idx != 3 {
		t.Fatalf("filled: %d, %v", idx, err)
	}
}

// TestIndexOrder: big-endian keys order by index across byte boundaries.
func TestIndexOrder(t *testing.T) {
	s, _ := testStore(t)
	idxs := []uint64{255, 256, 1, 1 << 40, 65535, 1<<64 - 1, 65536}
	for _, i := range idxs {
		if err := s.StoreLog(testRaftLog(i, "x")); err != nil {
			t.Fatal(err)
		}
	}
	if f, _ := s.FirstIndex(); f != 1 {
		t.Fatalf("FirstIndex = %d", f)
	}
	if l, _ := s.LastIndex(); l != 1<<64-1 {
		t.Fatalf("LastIndex = %d", l)
	}
	if err := s.DeleteRange(1<<40, 1<<64-1); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.LastIndex(); l != 65536 {
		t.Fatalf("LastIndex after deleting the top = %d", l)
	}
}

func TestGetLog(t *testing.T) {
	s, _ := testStore(t)
	l := new(raft.Log)
	if err := s.GetLog(1, l); err != raft.ErrLogNotFound {
		t.Fatalf("missing log: %v, want raft.ErrLogNotFound", err)
	}
	logs := []*raft.Log{testRaftLog(1, "log1"), testRaftLog(2, "log2"), testRaftLog(3, "log3")}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if err := s.GetLog(2, l); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l, logs[1]) {
		t.Fatalf("got %#v, want %#v", l, logs[1])
	}
	if err := s.GetLog(4, l); err != raft.ErrLogNotFound {
		t.Fatalf("missing log: %v, want raft.ErrLogNotFound", err)
	}
}

func TestSetLog(t *testing.T) {
	s, _ := testStore(t)
	log := &raft.Log{Data: []byte("log1"), Index: 1}
	if err := s.StoreLog(log); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, 1); !reflect.DeepEqual(log, got) {
		t.Fatalf("got %#v", got)
	}
	if err := s.StoreLog(nil); !errors.Is(err, raftstore.ErrNilLog) {
		t.Fatalf("StoreLog(nil): %v", err)
	}
}

func TestSetLogs(t *testing.T) {
	s, _ := testStore(t)
	logs := []*raft.Log{testRaftLog(1, "log1"), testRaftLog(2, "log2")}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	for i, want := range logs {
		if got := mustGet(t, s, uint64(i+1)); !reflect.DeepEqual(want, got) {
			t.Fatalf("log %d: got %#v", i+1, got)
		}
	}
	// Replacing and gaps.
	repl := []*raft.Log{testRaftLog(2, "log2'"), testRaftLog(10, "log10")}
	if err := s.StoreLogs(repl); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, 2); string(got.Data) != "log2'" {
		t.Fatalf("replaced log 2 = %q", got.Data)
	}
	if last, _ := s.LastIndex(); last != 10 {
		t.Fatalf("LastIndex = %d", last)
	}
	if err := s.StoreLogs(nil); err != nil {
		t.Fatalf("StoreLogs(nil): %v", err)
	}
	if err := s.StoreLogs([]*raft.Log{testRaftLog(20, "a"), nil}); !errors.Is(err, raftstore.ErrNilLog) {
		t.Fatalf("StoreLogs with a nil: %v", err)
	}
	if err := s.GetLog(20, new(raft.Log)); err != raft.ErrLogNotFound {
		t.Fatalf("a refused batch was partly written: %v", err)
	}
}

// TestEveryFieldSurvivesReopen stores logs with every field set, in batches
// of several sizes, and reads them back after a reopen.
func TestEveryFieldSurvivesReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "raft")
	s, err := raftstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []*raft.Log
	next := uint64(1)
	for _, n := range []int{1, 16, 64, 3, 1} {
		var batch []*raft.Log
		for i := 0; i < n; i++ {
			batch = append(batch, fullLog(next))
			next++
		}
		if err := s.StoreLogs(batch); err != nil {
			t.Fatal(err)
		}
		want = append(want, batch...)
	}
	empty := &raft.Log{Index: next, Data: []byte{}, Extensions: []byte{}}
	if err := s.StoreLog(empty); err != nil {
		t.Fatal(err)
	}
	want = append(want, empty)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = raftstore.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, w := range want {
		got := mustGet(t, s, w.Index)
		if !got.AppendedAt.Equal(w.AppendedAt) {
			t.Fatalf("log %d: AppendedAt %v, want %v", w.Index, got.AppendedAt, w.AppendedAt)
		}
		got.AppendedAt = w.AppendedAt
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("log %d: got %#v, want %#v", w.Index, got, w)
		}
	}
	if last, _ := s.LastIndex(); last != next {
		t.Fatalf("LastIndex = %d, want %d", last, next)
	}
}

// TestGetLogCopies: the caller may change what GetLog returned without
// changing the store.
func TestGetLogCopies(t *testing.T) {
	s, _ := testStore(t)
	if err := s.StoreLog(fullLog(7)); err != nil {
		t.Fatal(err)
	}
	a := mustGet(t, s, 7)
	for i := range a.Data {
		a.Data[i] ^= 0xff
	}
	a.Extensions[0] = 'X'
	if b := mustGet(t, s, 7); !bytes.Equal(b.Data, fullLog(7).Data) || string(b.Extensions) != "ext" {
		t.Fatal("changing a returned log changed the store")
	}
}

func TestDeleteRange(t *testing.T) {
	s, _ := testStore(t)
	logs := []*raft.Log{testRaftLog(1, "log1"), testRaftLog(2, "log2"), testRaftLog(3, "log3")}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(1, 2); err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint64{1, 2} {
		if err := s.GetLog(i, new(raft.Log)); err != raft.ErrLogNotFound {
			t.Fatalf("log %d not deleted: %v", i, err)
		}
	}
	if got := mustGet(t, s, 3); string(got.Data) != "log3" {
		t.Fatalf("log 3 = %q", got.Data)
	}
	if f, _ := s.FirstIndex(); f != 3 {
		t.Fatalf("FirstIndex = %d", f)
	}
	// Empty and inverted ranges change nothing.
	if err := s.DeleteRange(10, 20); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(3, 2); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.FirstIndex(); f != 3 {
		t.Fatalf("FirstIndex = %d", f)
	}
	// A suffix (raft's truncation of conflicting logs) and a large prefix.
	var many []*raft.Log
	for i := uint64(4); i <= 5000; i++ {
		many = append(many, testRaftLog(i, "x"))
	}
	if err := s.StoreLogs(many); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRange(4001, 5000); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.LastIndex(); l != 4000 {
		t.Fatalf("LastIndex after suffix delete = %d", l)
	}
	if err := s.DeleteRange(0, 3999); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.FirstIndex(); f != 4000 {
		t.Fatalf("FirstIndex after prefix delete = %d", f)
	}
	if err := s.DeleteRange(0, 1<<64-1); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.FirstIndex(); f != 0 {
		t.Fatalf("FirstIndex after deleting all = %d", f)
	}
	if l, _ := s.LastIndex(); l != 0 {
		t.Fatalf("LastIndex after deleting all = %d", l)
	}
}

func TestSetGet(t *testing.T) {
	s, dir := testStore(t)
	if _, err := s.Get([]byte("bad")); err != raftstore.ErrKeyNotFound {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := s.Get([]byte("bad")); err.Error() != "not found" {
		t.Fatalf("raft compares the text %q, got %q", "not found", err.Error())
	}
	k, v := []byte("hello"), []byte("world")
	if err := s.Set(k, v); err != nil {
		t.Fatal(err)
	}
	if val, err := s.Get(k); err != nil || !bytes.Equal(val, v) {
		t.Fatalf("Get = %q, %v", val, err)
	}
	if err := s.Set([]byte("empty"), nil); err != nil {
		t.Fatal(err)
	}
	if val, err := s.Get([]byte("empty")); err != nil || val == nil || len(val) != 0 {
		t.Fatalf("empty value: %q (nil %v), %v", val, val == nil, err)
	}
	// Logs and stable keys do not mix.
	if err := s.Set(make([]byte, 8), []byte("not a log")); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.FirstIndex(); f != 0 {
		t.Fatalf("a stable key shows as log index %d", f)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := raftstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if val, err := s2.Get(k); err != nil || !bytes.Equal(val, v) {
		t.Fatalf("after reopen: Get = %q, %v", val, err)
	}
}

func TestSetUint64GetUint64(t *testing.T) {
	s, _ := testStore(t)
	if _, err := s.GetUint64([]byte("bad")); err != raftstore.ErrKeyNotFound {
		t.Fatalf("missing key: %v", err)
	}
	k, v := []byte("abc"), uint64(123)
	if err := s.SetUint64(k, v); err != nil {
		t.Fatal(err)
	}
	if val, err := s.GetUint64(k); err != nil || val != v {
		t.Fatalf("GetUint64 = %d, %v", val, err)
	}
	if err := s.SetUint64(k, 1<<64-1); err != nil {
		t.Fatal(err)
	}
	if val, err := s.GetUint64(k); err != nil || val != 1<<64-1 {
		t.Fatalf("GetUint64 = %d, %v", val, err)
	}
	if err := s.Set([]byte("short"), []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUint64([]byte("short")); !errors.Is(err, sled.ErrCorruption) {
		t.Fatalf("GetUint64 of a 3-byte value: %v, want ErrCorruption", err)
	}
}

func TestClosed(t *testing.T) {
	s, err := raftstore.Open(filepath.Join(t.TempDir(), "raft"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.StoreLog(testRaftLog(1, "x")); !errors.Is(err, sled.ErrClosed) {
		t.Fatalf("StoreLog after Close: %v", err)
	}
	if _, err := s.LastIndex(); !errors.Is(err, sled.ErrClosed) {
		t.Fatalf("LastIndex after Close: %v", err)
	}
	if err := s.GetLog(1, new(raft.Log)); !errors.Is(err, sled.ErrClosed) {
		t.Fatalf("GetLog after Close: %v", err)
	}
}

func TestNoSync(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "raft")
	s, err := raftstore.OpenWithOptions(raftstore.Options{Path: dir, NoSync: true, CacheCapacityBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 100; i++ {
		if err := s.StoreLog(fullLog(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = raftstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if l, _ := s.LastIndex(); l != 100 {
		t.Fatalf("LastIndex = %d", l)
	}
}
