package raftstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/sledgo/sled"
	"github.com/sledgo/sled/raftstore"
)

func testSeed(t *testing.T, env string) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(env); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", env, err)
		}
	}
	t.Logf("seed %d (replay with %s=%d)", seed, env, seed)
	return seed
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// usedLen returns the length of b without its trailing zero bytes (sled
// preallocates its segments), at least 1.
func usedLen(b []byte) int {
	n := len(bytes.TrimRight(b, "\x00"))
	return max(n, 1)
}

// TestCorruptFiles flips bytes in the sled files of a closed store. Open, or
// the reads after it, must then fail with an error matching
// sled.ErrCorruption, or return the right logs: never wrong logs, never a
// panic. RAFTSTORE_CORRUPT_SEED replays a run.
func TestCorruptFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t, "RAFTSTORE_CORRUPT_SEED"), 7))
	const n = 400
	tmpl := filepath.Join(t.TempDir(), "template")
	s, err := raftstore.Open(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= n; i += 4 {
		if err := s.StoreLogs([]*raft.Log{fullLog(i), fullLog(i + 1), fullLog(i + 2), fullLog(i + 3)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 77); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(tmpl, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != "LOCK" {
			rel, _ := filepath.Rel(tmpl, p)
			files = append(files, rel)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no files in the template store")
	}
	detected := 0
	for round := 0; round < 40; round++ {
		dir := filepath.Join(t.TempDir(), "raft")
		copyDir(t, tmpl, dir)
		f := filepath.Join(dir, files[rng.IntN(len(files))])
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		off := rng.IntN(usedLen(b))
		cnt := min(1+rng.IntN(4), len(b)-off)
		for i := off; i < off+cnt; i++ {
			b[i] ^= byte(1 + rng.IntN(255))
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		where := fmt.Sprintf("%s at %d (+%d)", filepath.Base(f), off, cnt)
		if checkCorrupted(t, dir, n, where) {
			detected++
		}
	}
	t.Logf("%d of 40 corruptions reported as ErrCorruption", detected)
	if detected == 0 {
		t.Fatal("no corruption was ever detected: the test does not reach the data")
	}
}

// checkCorrupted opens the store in dir and reads everything; it reports
// whether an error matching sled.ErrCorruption was seen.
func checkCorrupted(t *testing.T, dir string, n uint64, where string) bool {
	t.Helper()
	isCorrupt := func(op string, err error) bool {
		if !errors.Is(err, sled.ErrCorruption) {
			t.Fatalf("corrupting %s: %s: %v, want an error matching sled.ErrCorruption", where, op, err)
		}
		return true
	}
	s, err := raftstore.Open(dir)
	if err != nil {
		return isCorrupt("Open", err)
	}
	defer s.Close()
	seen := false
	if _, err := s.FirstIndex(); err != nil {
		seen = isCorrupt("FirstIndex", err)
	}
	if _, err := s.LastIndex(); err != nil {
		seen = isCorrupt("LastIndex", err)
	}
	for i := uint64(1); i <= n; i++ {
		var l raft.Log
		err := s.GetLog(i, &l)
		if err == raft.ErrLogNotFound {
			continue // lost, not wrong
		}
		if err != nil {
			seen = isCorrupt(fmt.Sprintf("GetLog(%d)", i), err)
			continue
		}
		w := fullLog(i)
		if l.Index != w.Index || l.Term != w.Term || l.Type != w.Type || !bytes.Equal(l.Data, w.Data) ||
			!bytes.Equal(l.Extensions, w.Extensions) || !l.AppendedAt.Equal(w.AppendedAt) {
			t.Fatalf("corrupting %s: GetLog(%d) returned a wrong log %#v", where, i, l)
		}
	}
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil && err != raftstore.ErrKeyNotFound {
		seen = isCorrupt("GetUint64", err)
	} else if err == nil && v != 77 {
		t.Fatalf("corrupting %s: GetUint64 returned %d, want 77", where, v)
	}
	return seen
}

// TestCorruptValues: a value in the logs tree that does not decode, a key of
// the wrong length, or a log stored under another index's key is reported
// as corruption, never returned as a log.
func TestCorruptValues(t *testing.T) {
	s, _ := testStore(t)
	if err := s.StoreLogs([]*raft.Log{fullLog(1), fullLog(2)}); err != nil {
		t.Fatal(err)
	}
	logs, err := s.DB().OpenTree(raftstore.LogsTreeName)
	if err != nil {
		t.Fatal(err)
	}
	key := func(i byte) []byte { return []byte{0, 0, 0, 0, 0, 0, 0, i} }
	two, _ := logs.Get(key(2))
	logs.Insert(key(3), two)                         // index 2 under key 3
	logs.Insert(key(4), []byte{9, 0, 0})             // unknown version
	logs.Insert(key(5), two[:len(two)-1])            // truncated
	logs.Insert(key(6), append(bytes.Clone(two), 0)) // trailing byte
	logs.Insert(key(7), nil)                         // empty
	for i := uint64(3); i <= 7; i++ {
		l := raft.Log{Index: 99}
		err := s.GetLog(i, &l)
		if !errors.Is(err, sled.ErrCorruption) {
			t.Fatalf("GetLog(%d): %v, want ErrCorruption", i, err)
		}
		if l.Index != 99 {
			t.Fatalf("GetLog(%d) changed the destination on error", i)
		}
	}
	var l raft.Log
	if err := s.GetLog(4, &l); !errors.Is(err, raftstore.ErrUnknownVersion) {
		t.Fatalf("GetLog(4): %v, want ErrUnknownVersion", err)
	}
	if err := s.GetLog(5, &l); !errors.Is(err, raftstore.ErrBadEncoding) {
		t.Fatalf("GetLog(5): %v, want ErrBadEncoding", err)
	}
	logs.Insert([]byte{0xff}, two)
	if _, err := s.LastIndex(); !errors.Is(err, sled.ErrCorruption) {
		t.Fatalf("LastIndex over a 1-byte key: %v, want ErrCorruption", err)
	}
	logs.Insert([]byte{}, two)
	if _, err := s.FirstIndex(); !errors.Is(err, sled.ErrCorruption) {
		t.Fatalf("FirstIndex over an empty key: %v, want ErrCorruption", err)
	}
}
