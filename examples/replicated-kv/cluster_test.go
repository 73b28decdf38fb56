package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sledgo/sled/examples/replicated-kv/kvnode"
)

// proc is one node of the cluster, run as a separate process.
type proc struct {
	id, httpAddr string
	args         []string
	logPath      string
	cmd          *exec.Cmd
	exited       chan struct{}
}

func (p *proc) start(t *testing.T, bin string) {
	t.Helper()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func() {
		p.cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
}

func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
}

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

var client = &http.Client{Timeout: 3 * time.Second}

func status(httpAddr string) (kvnode.Status, error) {
	var st kvnode.Status
	resp, err := client.Get("http://" + httpAddr + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func dump(httpAddr string) (map[string]string, error) {
	resp, err := client.Get("http://" + httpAddr + "/dump")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var m map[string]string
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

// waitLeader waits until every node of ps agrees on a leader among ps.
func waitLeader(t *testing.T, ps []*proc, timeout time.Duration) *proc {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var leader string
		agree := true
		for _, p := range ps {
			st, err := status(p.httpAddr)
			if err != nil || st.LeaderID == "" || leader != "" && st.LeaderID != leader {
				agree = false
				break
			}
			leader = st.LeaderID
		}
		if agree {
			for _, p := range ps {
				if p.id == leader {
					return p
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no leader agreed by %d nodes within %v", len(ps), timeout)
	return nil
}

func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var lns []net.Listener
	var addrs []string
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return addrs
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// TestClusterSurvivesLeaderKill starts 3 nodes as processes, writes
// through the leader from several clients, SIGKILLs the leader in the
// middle of the stream, keeps writing through the new leader, and checks
// that every acknowledged write is on both survivors and, after a
// restart, on the killed node too.
func TestClusterSurvivesLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 processes")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "replicated-kv")
	build := exec.Command(goTool(), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addrs := freeAddrs(t, 6)
	var cluster []string
	for i := 0; i < 3; i++ {
		cluster = append(cluster, fmt.Sprintf("n%d=%s/%s", i+1, addrs[2*i], addrs[2*i+1]))
	}
	var ps []*proc
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("n%d", i+1)
		p := &proc{id: id, httpAddr: addrs[2*i+1], logPath: filepath.Join(tmp, id+".log"), args: []string{
			"-id", id, "-dir", filepath.Join(tmp, id), "-cluster", strings.Join(cluster, ","),
			// Small thresholds so that snapshots, log truncation and
			// InstallSnapshot all happen during the test.
			"-snapshot-threshold", "200", "-trailing-logs", "100", "-snapshot-interval", "500ms",
			"-log-level", "warn",
		}}
		ps = append(ps, p)
	}
	t.Cleanup(func() {
		for _, p := range ps {
			p.kill()
		}
		if t.Failed() {
			for _, p := range ps {
				b, _ := os.ReadFile(p.logPath)
				t.Logf("log of %s:\n%s", p.id, b)
			}
		}
	})
	for _, p := range ps {
		p.start(t, bin)
	}
	leader := waitLeader(t, ps, 30*time.Second)
	t.Logf("leader %s", leader.id)

	// Writers: each writes its own keys; a write is acknowledged only on 204.
	const writers, beforeKill, afterKill = 4, 300, 300
	var (
		mu      sync.Mutex
		acked   = map[string]string{}
		target  atomic.Pointer[string] // the HTTP address writes go to
		killed  atomic.Bool
		nAfter  atomic.Int64
		stop    atomic.Bool
		wg      sync.WaitGroup
		failed  atomic.Int64
		started = time.Now()
	)
	target.Store(&leader.httpAddr)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() && time.Since(started) < 60*time.Second; i++ {
				key, val := fmt.Sprintf("w%d-%05d", w, i), fmt.Sprintf("value %d of writer %d", i, w)
				req, _ := http.NewRequest(http.MethodPut, "http://"+*target.Load()+"/kv/"+key, bytes.NewReader([]byte(val)))
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusNoContent {
					failed.Add(1) // maybe written, maybe not: not acknowledged
					time.Sleep(20 * time.Millisecond)
					continue
				}
				mu.Lock()
				acked[key] = val
				mu.Unlock()
				if killed.Load() {
					nAfter.Add(1)
				}
			}
		}()
	}
	ackedLen := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for ackedLen() < beforeKill {
		if time.Since(started) > 30*time.Second {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("only %d writes acknowledged in 30s", ackedLen())
		}
		time.Sleep(5 * time.Millisecond)
	}
	leader.kill() // mid-stream: the writers are still running
	killed.Store(true)
	var survivors []*proc
	for _, p := range ps {
		if p != leader {
			survivors = append(survivors, p)
		}
	}
	t.Logf("killed leader %s after %d acknowledged writes", leader.id, ackedLen())
	newLeader := waitLeader(t, survivors, 30*time.Second)
	t.Logf("new leader %s", newLeader.id)
	target.Store(&newLeader.httpAddr)
	for nAfter.Load() < afterKill && time.Since(started) < 60*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if nAfter.Load() < afterKill {
		t.Fatalf("only %d writes acknowledged after the kill", nAfter.Load())
	}
	t.Logf("%d writes acknowledged (%d after the kill), %d not acknowledged, in %v",
		len(acked), nAfter.Load(), failed.Load(), time.Since(started).Round(time.Millisecond))

	checkAll := func(p *proc, timeout time.Duration) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		var missing []string
		for {
			m, err := dump(p.httpAddr)
			missing = missing[:0]
			if err == nil {
				for k, v := range acked {
					if got, ok := m[k]; !ok || got != v {
						missing = append(missing, k)
					}
				}
				if len(missing) == 0 {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d acknowledged writes missing or wrong (e.g. %v); last error %v",
					p.id, len(missing), len(acked), missing[:min(5, len(missing))], err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, p := range survivors {
		checkAll(p, 20*time.Second)
	}
	// The killed node restarts from its own files and catches up.
	leader.start(t, bin)
	checkAll(leader, 30*time.Second)
	if st, err := status(leader.httpAddr); err != nil || st.LeaderID != newLeader.id {
		t.Fatalf("restarted %s: status %+v, %v; want leader %s", leader.id, st, err, newLeader.id)
	}
	for _, p := range ps {
		if !p.alive() {
			t.Fatalf("%s exited", p.id)
		}
	}
}
