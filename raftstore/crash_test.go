package raftstore_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/sledgo/sled/raftstore"
)

// Environment of the crash test. RAFTSTORE_CRASH_SEED replays a run;
// RAFTSTORE_CRASH_ROUNDS runs more kills (default 6).
const (
	envCrashChild  = "RAFTSTORE_CRASH_CHILD" // the store's directory: run as the child
	envCrashSeed   = "RAFTSTORE_CRASH_SEED"
	envCrashRounds = "RAFTSTORE_CRASH_ROUNDS"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envCrashChild); dir != "" {
		seed, _ := strconv.ParseUint(os.Getenv(envCrashSeed), 10, 64)
		if err := crashChild(dir, seed); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashLog is the log the crash test stores at index i: its content follows
// from the index, so the parent can check every field.
func crashLog(i uint64) *raft.Log {
	return &raft.Log{
		Index:      i,
		Term:       i/100 + 1,
		Type:       raft.LogType(i % 3),
		Data:       bytes.Repeat([]byte(strconv.FormatUint(i, 10)+","), int(i%40)+1),
		Extensions: []byte{byte(i)},
		AppendedAt: time.Unix(int64(i), int64(i%1000)).UTC(),
	}
}

// crashChild appends to the store until killed. Before each StoreLogs it
// prints "try L" (L = the batch's last index), after it returns "ack L";
// before a DeleteRange of a prefix up to T it prints "trunc T", after it
// "truncated T".
func crashChild(dir string, seed uint64) error {
	s, err := raftstore.Open(dir)
	if err != nil {
		return err
	}
	last, err := s.LastIndex()
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, last))
	out := bufio.NewWriter(os.Stdout)
	say := func(what string, n uint64) {
		fmt.Fprintf(out, "%s %d\n", what, n)
		out.Flush()
	}
	say("open", last)
	for {
		n := []int{1, 1, 2, 16, 64}[rng.IntN(5)]
		batch := make([]*raft.Log, n)
		for i := range batch {
			batch[i] = crashLog(last + 1 + uint64(i))
		}
		last += uint64(n)
		say("try", last)
		if err := s.StoreLogs(batch); err != nil {
			return err
		}
		say("ack", last)
		if rng.IntN(50) == 0 && last > 200 {
			first, err := s.FirstIndex()
			if err != nil {
				return err
			}
			t := last - 100
			say("trunc", t)
			if err := s.DeleteRange(first, t); err != nil {
				return err
			}
			say("truncated", t)
		}
	}
}

// TestCrashKill SIGKILLs a child process that stores logs, at a random
// moment, then checks that every acknowledged log survived with the right
// content, that LastIndex never went back below an acknowledged index, and
// that batches and truncations are whole; the child then resumes on the
// same store, for several rounds.
func TestCrashKill(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(envCrashSeed); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", envCrashSeed, err)
		}
	}
	rounds := 6
	if s := os.Getenv(envCrashRounds); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	t.Logf("seed %d (replay with %s=%d), %d rounds", seed, envCrashSeed, seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := filepath.Join(t.TempDir(), "raft")
	var acked, truncated uint64 // highest acknowledged by any round
	tried := map[uint64]bool{0: true}
	truncTried := map[uint64]bool{0: true}
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envCrashChild+"="+dir, fmt.Sprintf("%s=%d", envCrashSeed, seed+uint64(round)))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			io.Copy(io.Discard, stdout)
			close(lines)
		}()
		delay := time.Duration(20+rng.IntN(400)) * time.Millisecond
		var timer <-chan time.Time
		opened := false
		roundAcks := 0
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break read
				}
				what, num, _ := strings.Cut(line, " ")
				n, err := strconv.ParseUint(num, 10, 64)
				if err != nil {
					t.Fatalf("round %d: child said %q", round, line)
				}
				switch what {
				case "open":
					// The child opened the store left by the last kill.
					if n < acked {
						t.Fatalf("round %d: reopened with LastIndex %d < acknowledged %d (seed %d)", round, n, acked, seed)
					}
					if !tried[n] {
						t.Fatalf("round %d: reopened with LastIndex %d, not a batch boundary (seed %d)", round, n, seed)
					}
					opened = true
					timer = time.After(delay)
				case "try":
					tried[n] = true
				case "ack":
					acked = n
					roundAcks++
				case "trunc":
					truncTried[n] = true
				case "truncated":
					truncated = n
				}
			case <-timer:
				cmd.Process.Signal(syscall.SIGKILL)
				timer = nil
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("round %d: child silent for 30s; stderr: %s", round, stderr.String())
			}
		}
		err = cmd.Wait()
		if !opened {
			t.Fatalf("round %d: child did not open the store: %v; stderr: %s", round, err, stderr.String())
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended by itself: %v; stderr: %s", round, err, stderr.String())
		}
		checkAfterCrash(t, dir, acked, truncated, tried, truncTried, seed)
		t.Logf("round %d: killed after %v, %d batches acknowledged, last acknowledged index %d", round, delay, roundAcks, acked)
	}
}

func checkAfterCrash(t *testing.T, dir string, acked, truncated uint64, tried, truncTried map[uint64]bool, seed uint64) {
	t.Helper()
	s, err := raftstore.Open(dir)
	if err != nil {
		t.Fatalf("reopen after kill (seed %d): %v", seed, err)
	}
	defer s.Close()
	first, err := s.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	last, err := s.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	if last < acked {
		t.Fatalf("LastIndex %d < acknowledged %d (seed %d)", last, acked, seed)
	}
	if !tried[last] {
		t.Fatalf("LastIndex %d is not the end of a batch: a batch was torn (seed %d)", last, seed)
	}
	if last == 0 {
		return // killed before the first batch was written
	}
	if first <= truncated {
		t.Fatalf("FirstIndex %d, but the truncation up to %d was acknowledged (seed %d)", first, truncated, seed)
	}
	if first > 1 && !truncTried[first-1] {
		t.Fatalf("FirstIndex %d is no truncation's end: a DeleteRange was torn (seed %d)", first, seed)
	}
	for i := first; i <= last; i++ {
		var l raft.Log
		if err := s.GetLog(i, &l); err != nil {
			t.Fatalf("GetLog(%d) in [%d, %d] (acknowledged %d): %v (seed %d)", i, first, last, acked, err, seed)
		}
		want := crashLog(i)
		if l.Index != want.Index || l.Term != want.Term || l.Type != want.Type || !bytes.Equal(l.Data, want.Data) ||
			!bytes.Equal(l.Extensions, want.Extensions) || !l.AppendedAt.Equal(want.AppendedAt) {
			t.Fatalf("log %d has wrong content %#v (seed %d)", i, l, seed)
		}
	}
}
