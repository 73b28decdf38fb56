// Command bench compares raftstore (sled) with raft-boltdb v2 (bbolt), the
// log store hashicorp/raft's docs call the most used, side by side in one
// run on the same disk:
//
//   - raftbench: hashicorp/raft's bench package, every function, on both;
//   - StoreLogs of 1, 16 and 64 entries per call, durable, one appender
//     (as a raft node appends), and three stores appending at once (three
//     nodes on one machine);
//   - GetLog of random indexes over 10,000 logs;
//   - the replicated example (examples/replicated-kv): three raft nodes in
//     this process on loopback TCP, HTTP clients writing through the leader,
//     the same raft settings for both stores.
//
// Each timed figure is the median of -rounds runs that alternate which
// store goes first. It prints raw figures and the ratio sled/bolt (> 1:
// sled is faster; for times, bolt's time over sled's).
// Run from raftstore/bench: go run . (see -h).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	raftbench "github.com/hashicorp/raft/bench"
	"github.com/sledgo/sled/examples/replicated-kv/kvnode"
	"github.com/sledgo/sled/raftstore"
)

// store is what both candidates are: a LogStore and StableStore that closes.
type store interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

type candidate struct {
	name string
	open func(dir string) (store, error)
}

var candidates = []candidate{
	{"sled", func(dir string) (store, error) { return raftstore.Open(filepath.Join(dir, "sled")) }},
	{"bolt", func(dir string) (store, error) { return raftboltdb.NewBoltStore(filepath.Join(dir, "bolt.db")) }},
}

var (
	flagDir      = flag.String("dir", "", "directory for the stores (default: a temporary one); the disk is what is measured")
	flagDuration = flag.Duration("duration", 3*time.Second, "length of each timed measurement")
	flagEntry    = flag.Int("entry-bytes", 128, "Data bytes of each log entry in the StoreLogs and GetLog runs")
	flagOnly     = flag.String("only", "raftbench,storelogs,nodes3,getlog,replicated", "comma-separated sections to run")
	flagClients  = flag.Int("clients", 16, "concurrent HTTP writers in the replicated run")
	flagRounds   = flag.Int("rounds", 3, "rounds of each timed measurement, alternating the stores; the median is reported")
)

// measure runs fn for both candidates, -rounds times, alternating which
// goes first (the disk's speed drifts), and returns each one's median.
func measure(fn func(c candidate) float64) [2]float64 {
	var runs [2][]float64
	for r := 0; r < *flagRounds; r++ {
		for k := range candidates {
			i := (k + r) % len(candidates)
			runs[i] = append(runs[i], fn(candidates[i]))
		}
	}
	var med [2]float64
	for i := range runs {
		slices.Sort(runs[i])
		med[i] = runs[i][len(runs[i])/2]
	}
	return med
}

func main() {
	testing.Init()
	flag.Parse()
	base := *flagDir
	if base == "" {
		d, err := os.MkdirTemp("", "raftstore-bench-*")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(d)
		base = d
	}
	fmt.Printf("raftstore vs raft-boltdb/v2; dir %s; %v per measurement, median of %d rounds; entries of %d bytes\n\n",
		base, *flagDuration, *flagRounds, *flagEntry)
	sections := strings.Split(*flagOnly, ",")
	run := func(name string, fn func(base string)) {
		if slices.Contains(sections, name) {
			fn(filepath.Join(base, name))
		}
	}
	run("raftbench", runRaftbench)
	run("storelogs", runStoreLogs)
	run("nodes3", runThreeNodes)
	run("getlog", runGetLog)
	run("replicated", runReplicated)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

var dirSeq atomic.Int64

func freshDir(base string) string {
	d := filepath.Join(base, fmt.Sprint(dirSeq.Add(1)))
	if err := os.MkdirAll(d, 0o755); err != nil {
		fatal(err)
	}
	return d
}

func openStore(c candidate, base string) store {
	s, err := c.open(freshDir(base))
	if err != nil {
		fatal(fmt.Errorf("%s: %w", c.name, err))
	}
	return s
}

// row prints one line: sled's and bolt's figure and sled/bolt.
func row(name, unit string, sled, bolt float64, higherIsBetter bool) {
	ratio := sled / bolt
	if !higherIsBetter {
		ratio = bolt / sled
	}
	fmt.Printf("%-34s %14.1f %14.1f %-9s %6.2fx\n", name, sled, bolt, unit, ratio)
}

func header(title string) {
	fmt.Printf("%s\n%-34s %14s %14s %-9s %7s\n", title, "", "sled", "bolt", "", "sled/bolt")
}

func runRaftbench(base string) {
	header("hashicorp/raft bench (raftbench), durable stores; ns/op, ratio = speedup of sled")
	logFns := []struct {
		name string
		fn   func(*testing.B, raft.LogStore)
	}{
		{"FirstIndex", raftbench.FirstIndex}, {"LastIndex", raftbench.LastIndex}, {"GetLog", raftbench.GetLog},
		{"StoreLog", raftbench.StoreLog}, {"StoreLogs", raftbench.StoreLogs}, {"DeleteRange", raftbench.DeleteRange},
	}
	stableFns := []struct {
		name string
		fn   func(*testing.B, raft.StableStore)
	}{
		{"Set", raftbench.Set}, {"Get", raftbench.Get}, {"SetUint64", raftbench.SetUint64}, {"GetUint64", raftbench.GetUint64},
	}
	bench := func(fn func(*testing.B, store)) [2]float64 {
		return measure(func(c candidate) float64 {
			r := testing.Benchmark(func(b *testing.B) {
				s := openStore(c, base)
				defer s.Close()
				fn(b, s)
			})
			return float64(r.T.Nanoseconds()) / float64(r.N)
		})
	}
	for _, f := range logFns {
		m := bench(func(b *testing.B, s store) { f.fn(b, s) })
		row(f.name, "ns/op", m[0], m[1], false)
	}
	for _, f := range stableFns {
		m := bench(func(b *testing.B, s store) { f.fn(b, s) })
		row(f.name, "ns/op", m[0], m[1], false)
	}
	fmt.Println()
}

func entry(idx uint64, size int) *raft.Log {
	return &raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: bytes.Repeat([]byte{byte(idx)}, size),
		AppendedAt: time.Now()}
}

// appendFor appends batches of n entries to s for d; it returns calls/s and
// the latencies.
func appendFor(s store, n int, d time.Duration) (float64, []time.Duration) {
	next := uint64(1)
	var lat []time.Duration
	start := time.Now()
	for time.Since(start) < d {
		batch := make([]*raft.Log, n)
		for i := range batch {
			batch[i] = entry(next, *flagEntry)
			next++
		}
		t0 := time.Now()
		if err := s.StoreLogs(batch); err != nil {
			fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	return float64(len(lat)) / time.Since(start).Seconds(), lat
}

func pct(lat []time.Duration, p float64) float64 {
	slices.Sort(lat)
	return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds())
}

func runStoreLogs(base string) {
	header("StoreLogs, durable, one appender")
	for _, n := range []int{1, 16, 64} {
		lats := map[string][]time.Duration{}
		calls := measure(func(c candidate) float64 {
			s := openStore(c, base)
			defer s.Close()
			perSec, lat := appendFor(s, n, *flagDuration)
			lats[c.name] = append(lats[c.name], lat...)
			return perSec
		})
		var p50, p99 [2]float64
		for i, c := range candidates {
			p50[i], p99[i] = pct(lats[c.name], 0.5), pct(lats[c.name], 0.99)
		}
		row(fmt.Sprintf("StoreLogs(%d) calls/s", n), "calls/s", calls[0], calls[1], true)
		row(fmt.Sprintf("StoreLogs(%d) entries/s", n), "entries/s", calls[0]*float64(n), calls[1]*float64(n), true)
		row(fmt.Sprintf("StoreLogs(%d) p50", n), "us", p50[0], p50[1], false)
		row(fmt.Sprintf("StoreLogs(%d) p99", n), "us", p99[0], p99[1], false)
	}
	fmt.Println()
}

func runThreeNodes(base string) {
	header("3 stores appending at once (3 nodes on one machine), StoreLogs(16), durable")
	res := measure(func(c candidate) float64 {
		var wg sync.WaitGroup
		var total atomic.Int64
		for node := 0; node < 3; node++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := openStore(c, base)
				defer s.Close()
				perSec, _ := appendFor(s, 16, *flagDuration)
				total.Add(int64(perSec * 16))
			}()
		}
		wg.Wait()
		return float64(total.Load())
	})
	row("3 nodes, total entries/s", "entries/s", res[0], res[1], true)
	fmt.Println()
}

func runGetLog(base string) {
	header("GetLog of random indexes over 10,000 logs")
	const n = 10000
	res := measure(func(c candidate) float64 {
		s := openStore(c, base)
		defer s.Close()
		for j := uint64(1); j <= n; j += 100 {
			var batch []*raft.Log
			for k := j; k < j+100; k++ {
				batch = append(batch, entry(k, *flagEntry))
			}
			if err := s.StoreLogs(batch); err != nil {
				fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var l raft.Log
		ops := 0
		start := time.Now()
		for time.Since(start) < *flagDuration {
			for k := 0; k < 1000; k++ {
				if err := s.GetLog(1+rng.Uint64N(n), &l); err != nil {
					fatal(err)
				}
			}
			ops += 1000
		}
		return float64(ops) / time.Since(start).Seconds()
	})
	row("GetLog", "ops/s", res[0], res[1], true)
	fmt.Println()
}

func freeAddrs(n int) []string {
	var lns []net.Listener
	var out []string
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// runReplicated runs the replicated example's nodes in this process (the
// same kvnode package, raft settings and HTTP API as the example binary)
// with each store, and measures acknowledged writes per second.
func runReplicated(base string) {
	header(fmt.Sprintf("replicated example: 3 raft nodes, %d HTTP clients writing 100-byte values through the leader", *flagClients))
	res := measure(func(c candidate) float64 { return replicatedWrites(c, base) })
	row("replicated writes/s", "writes/s", res[0], res[1], true)
	fmt.Println()
}

func replicatedWrites(c candidate, base string) float64 {
	addrs := freeAddrs(6)
	var peers []kvnode.Peer
	for i := 0; i < 3; i++ {
		peers = append(peers, kvnode.Peer{ID: fmt.Sprintf("n%d", i+1), RaftAddr: addrs[2*i], HTTPAddr: addrs[2*i+1]})
	}
	var nodes []*kvnode.Node
	var stores []store
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
		for _, s := range stores {
			s.Close()
		}
	}()
	for _, p := range peers {
		dir := freshDir(base)
		s, err := c.open(dir)
		if err != nil {
			fatal(err)
		}
		stores = append(stores, s)
		n, err := kvnode.Start(kvnode.Config{ID: p.ID, Dir: dir, Cluster: peers, LogStore: s, StableStore: s,
			LogOutput: io.Discard})
		if err != nil {
			fatal(err)
		}
		nodes = append(nodes, n)
	}
	var leader string
	for deadline := time.Now().Add(30 * time.Second); leader == ""; {
		if time.Now().After(deadline) {
			fatal(fmt.Errorf("%s: no leader", c.name))
		}
		for i, n := range nodes {
			if n.Raft().State() == raft.Leader {
				leader = peers[i].HTTPAddr
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *flagClients}}
	val := bytes.Repeat([]byte("v"), 100)
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *flagClients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Since(start) < *flagDuration; i++ {
				req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s/kv/c%d-%d", leader, w, i), bytes.NewReader(val))
				resp, err := client.Do(req)
				if err != nil {
					fatal(fmt.Errorf("%s: %w", c.name, err))
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					fatal(fmt.Errorf("%s: write: %s", c.name, resp.Status))
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}
