package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type opKind int

const (
	opRead opKind = iota
	opUpdate
	opInsert
	opScan
	opRMW
	opTx // tx mode: a read-modify-write transaction of txKeys keys
	numOps
)

var opNames = [numOps]string{"read", "update", "insert", "scan", "rmw", "tx"}

// Workload is a YCSB core workload: operation proportions and the request
// distribution (workloads/workload[a-f] of the YCSB repository).
type Workload struct {
	Name    string
	Props   [numOps]float64
	Dist    string // "zipfian" (scrambled) or "latest"
	MaxScan int    // scan length is uniform in 1..MaxScan
}

// ycsb lists the workloads in the order YCSB recommends running them
// (A, B, C, F, D, E: D and E insert, so they come last).
var ycsb = []Workload{
	{Name: "A", Props: [numOps]float64{opRead: 0.5, opUpdate: 0.5}, Dist: "zipfian"},
	{Name: "B", Props: [numOps]float64{opRead: 0.95, opUpdate: 0.05}, Dist: "zipfian"},
	{Name: "C", Props: [numOps]float64{opRead: 1}, Dist: "zipfian"},
	{Name: "F", Props: [numOps]float64{opRead: 0.5, opRMW: 0.5}, Dist: "zipfian"},
	{Name: "D", Props: [numOps]float64{opRead: 0.95, opInsert: 0.05}, Dist: "latest"},
	{Name: "E", Props: [numOps]float64{opScan: 0.95, opInsert: 0.05}, Dist: "zipfian", MaxScan: 100},
}

// txKeys is the number of distinct keys a tx operation reads and writes.
const txKeys = 4

// txWorkloads are tx mode's workloads, run in this order on the loaded
// database: TX, every operation a transaction, and YCSB A with a tenth of
// its operations replaced by transactions.
var txWorkloads = []Workload{
	{Name: "TX", Props: [numOps]float64{opTx: 1}, Dist: "zipfian"},
	{Name: "A+TX", Props: [numOps]float64{opRead: 0.45, opUpdate: 0.45, opTx: 0.1}, Dist: "zipfian"},
}

var workloadDesc = map[string]string{
	"load": "load: insert every record (hashed key order), non-durable",
	"A":    "A: 50% read, 50% update, zipfian",
	"B":    "B: 95% read, 5% update, zipfian",
	"C":    "C: 100% read, zipfian",
	"D":    "D: 95% read latest, 5% insert, latest",
	"E":    "E: 95% scan (uniform 1..100), 5% insert, zipfian",
	"F":    "F: 50% read, 50% read-modify-write, zipfian",
	"TX":   "TX: 100% transaction (read 4 distinct keys, write the 4 back), zipfian",
	"A+TX": "A+TX: 45% read, 45% update, 10% transaction as in TX, zipfian",
}

// chooseOp maps a uniform u in [0,1) to an operation by the proportions
// (YCSB's DiscreteGenerator).
func (w *Workload) chooseOp(u float64) opKind {
	sum := 0.0
	for i, p := range w.Props {
		sum += p
		if u < sum {
			return opKind(i)
		}
	}
	for i := numOps - 1; i >= 0; i-- {
		if w.Props[i] > 0 {
			return i
		}
	}
	return opRead
}

// Result is the outcome of one workload on one engine.
type Result struct {
	Ops       int64
	Dur       time.Duration
	Hist      hist
	OpCounts  [numOps]int64
	NotFound  int64
	Logical   int64 // key+value bytes written by the workload
	DiskBytes int64 // /proc/self/io write_bytes during the workload
	Aborts    int64 // transactions given up on a conflict (not in Ops)
	Retries   int64 // runs of a transaction again after a conflict
	Err       error
}

func (r *Result) Throughput() float64 {
	if r == nil || r.Dur <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Dur.Seconds()
}

// state is what the workloads of one engine run share: the key space.
type state struct {
	records   int64   // loaded records
	inserts   counter // YCSB's transaction insert key sequence
	valueSize int
}

// valueSource hands out incompressible values of a fixed size.
type valueSource struct {
	buf  []byte
	size int
	rng  *rand.Rand
}

func newValueSource(rng *rand.Rand, size int) *valueSource {
	buf := make([]byte, 64<<10+size)
	for i := 0; i+8 <= len(buf); i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			buf[i+j] = byte(v >> (8 * j))
		}
	}
	return &valueSource{buf: buf, size: size, rng: rng}
}

func (v *valueSource) next() []byte {
	off := v.rng.IntN(len(v.buf) - v.size + 1)
	return v.buf[off : off+v.size : off+v.size]
}

type client struct {
	w       *Workload
	st      *state
	rng     *rand.Rand
	vals    *valueSource
	choose  func() int64
	key     []byte
	durable bool // writes are durable (PutDurable; the engine was opened Durable)
	txKey   [txKeys][]byte
	txVal   [txKeys][]byte
	res     Result
}

func newClient(w *Workload, st *state, seed uint64) *client {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := &client{w: w, st: st, rng: rng, vals: newValueSource(rng, st.valueSize)}
	switch w.Dist {
	case "latest":
		l := newLatest(rng, &st.inserts)
		c.choose = l.next
	default:
		// As YCSB: the chooser's range covers the records plus the inserts
		// expected during the run (operationcount = recordcount assumed), and
		// draws beyond the last inserted key are retried.
		expected := int64(float64(st.records) * w.Props[opInsert] * 2)
		z := newScrambledZipfian(rng, 0, st.records+expected)
		c.choose = func() int64 {
			for {
				k := z.next()
				if k <= st.inserts.last() {
					return k
				}
			}
		}
	}
	return c
}

// put writes key=val, durably when c.durable.
func (c *client) put(e Engine, key, val []byte) error {
	if c.durable {
		return e.PutDurable(key, val)
	}
	return e.Put(key, val)
}

// chooseTxKeys draws txKeys distinct key numbers from the request
// distribution: a draw equal to one already chosen is redrawn (a zipfian
// repeats its hot keys often). The key space must hold txKeys keys.
func (c *client) chooseTxKeys() [txKeys]int64 {
	var ks [txKeys]int64
	for n := 0; n < txKeys; {
		if k := c.choose(); !slices.Contains(ks[:n], k) {
			ks[n] = k
			n++
		}
	}
	return ks
}

// errNoTx: a tx operation on an engine without read-write transactions.
var errNoTx = errors.New("the engine has no read-write transactions")

func (c *client) do(e Engine, op opKind) error {
	switch op {
	case opRead:
		c.key = keyName(c.key, c.choose())
		_, ok, err := e.Get(c.key)
		if !ok {
			c.res.NotFound++
		}
		return err
	case opUpdate:
		c.key = keyName(c.key, c.choose())
		v := c.vals.next()
		c.res.Logical += int64(len(c.key) + len(v))
		return c.put(e, c.key, v)
	case opInsert:
		k := c.st.inserts.nextInsert()
		c.key = keyName(c.key, k)
		v := c.vals.next()
		c.res.Logical += int64(len(c.key) + len(v))
		err := c.put(e, c.key, v)
		c.st.inserts.ack(k) // also on error, so that no client waits forever
		return err
	case opScan:
		c.key = keyName(c.key, c.choose())
		_, err := e.Scan(c.key, 1+c.rng.IntN(c.w.MaxScan))
		return err
	case opRMW:
		c.key = keyName(c.key, c.choose())
		if _, ok, err := e.Get(c.key); err != nil {
			return err
		} else if !ok {
			c.res.NotFound++
		}
		v := c.vals.next()
		c.res.Logical += int64(len(c.key) + len(v))
		return c.put(e, c.key, v)
	case opTx:
		te, ok := e.(TxEngine)
		if !ok {
			return errNoTx
		}
		logical := 0
		for i, k := range c.chooseTxKeys() {
			c.txKey[i] = keyName(c.txKey[i], k)
			c.txVal[i] = c.vals.next()
			logical += len(c.txKey[i]) + len(c.txVal[i])
		}
		found, retries, err := te.RMW(c.txKey[:], c.txVal[:])
		c.res.Retries += int64(retries)
		if err != nil {
			return err // errTxAborted included: the caller counts it
		}
		c.res.NotFound += int64(txKeys - found)
		c.res.Logical += int64(logical)
		return nil
	}
	return fmt.Errorf("unknown op %d", op)
}

// runWorkload runs w with threads client goroutines for dur (or until
// maxOps operations in all, when maxOps > 0).
func runWorkload(e Engine, w *Workload, st *state, threads int, dur time.Duration, maxOps int64, seed uint64) *Result {
	return runWorkloadOpts(e, w, st, threads, dur, maxOps, seed, false)
}

// runWorkloadOpts is runWorkload; durable: every update and insert is a
// PutDurable (e was opened Durable, so that transactions are durable too).
// A transaction aborted on a conflict counts in Aborts, not in Ops.
func runWorkloadOpts(e Engine, w *Workload, st *state, threads int, dur time.Duration, maxOps int64, seed uint64, durable bool) *Result {
	if w.Props[opTx] > 0 && st.records < txKeys {
		return &Result{Err: fmt.Errorf("workload %s: transactions of %d distinct keys need at least %d records, have %d", w.Name, txKeys, txKeys, st.records)}
	}
	clients := make([]*client, threads)
	for i := range clients {
		clients[i] = newClient(w, st, seed+uint64(i)*7919)
		clients[i].durable = durable
	}
	var issued atomic.Int64
	var wg sync.WaitGroup
	w0 := diskWriteBytes()
	start := time.Now()
	deadline := start.Add(dur)
	for _, c := range clients {
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			for {
				if maxOps > 0 && issued.Add(1) > maxOps {
					return
				}
				op := w.chooseOp(c.rng.Float64())
				t0 := time.Now()
				err := c.do(e, op)
				t1 := time.Now()
				switch {
				case errors.Is(err, errTxAborted):
					c.res.Aborts++
				case err != nil:
					c.res.Err = fmt.Errorf("%s: %w", opNames[op], err)
					return
				default:
					c.res.Hist.record(t1.Sub(t0))
					c.res.OpCounts[op]++
					c.res.Ops++
				}
				if maxOps <= 0 && t1.After(deadline) {
					return
				}
			}
		}(c)
	}
	wg.Wait()
	total := &Result{Dur: time.Since(start)}
	for _, c := range clients {
		total.Ops += c.res.Ops
		total.NotFound += c.res.NotFound
		total.Logical += c.res.Logical
		total.Aborts += c.res.Aborts
		total.Retries += c.res.Retries
		for i := range total.OpCounts {
			total.OpCounts[i] += c.res.OpCounts[i]
		}
		total.Hist.merge(&c.res.Hist)
		if total.Err == nil {
			total.Err = c.res.Err
		}
	}
	total.DiskBytes = diskWriteBytes() - w0
	return total
}

// load inserts records 0..n-1 with threads goroutines (key numbers
// interleaved between them, keys in hashed order) and non-durable puts.
func load(e Engine, st *state, n int64, threads int, seed uint64) *Result {
	var next atomic.Int64
	var wg sync.WaitGroup
	clients := make([]*client, threads)
	w0 := diskWriteBytes()
	start := time.Now()
	for i := range clients {
		rng := rand.New(rand.NewPCG(seed+uint64(i), 42))
		c := &client{st: st, rng: rng, vals: newValueSource(rng, st.valueSize)}
		clients[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1) - 1
				if k >= n {
					return
				}
				c.key = keyName(c.key, k)
				v := c.vals.next()
				t0 := time.Now()
				if err := e.Put(c.key, v); err != nil {
					c.res.Err = fmt.Errorf("load: %w", err)
					return
				}
				c.res.Hist.record(time.Since(t0))
				c.res.Logical += int64(len(c.key) + len(v))
				c.res.OpCounts[opInsert]++
				c.res.Ops++
			}
		}()
	}
	wg.Wait()
	total := &Result{Dur: time.Since(start)}
	for _, c := range clients {
		total.Ops += c.res.Ops
		total.Logical += c.res.Logical
		total.OpCounts[opInsert] += c.res.OpCounts[opInsert]
		total.Hist.merge(&c.res.Hist)
		if total.Err == nil {
			total.Err = c.res.Err
		}
	}
	total.DiskBytes = diskWriteBytes() - w0
	st.records = n
	st.inserts.reset(n)
	return total
}

// durableWrites runs clients goroutines each doing PutDurable of uniformly
// random keys among records for dur.
func durableWrites(e Engine, records int64, valueSize, clients int, dur time.Duration, seed uint64) *Result {
	var wg sync.WaitGroup
	cs := make([]*client, clients)
	w0 := diskWriteBytes()
	start := time.Now()
	deadline := start.Add(dur)
	for i := range cs {
		rng := rand.New(rand.NewPCG(seed+uint64(i), 7))
		c := &client{rng: rng, vals: newValueSource(rng, valueSize)}
		cs[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c.key = keyName(c.key, c.rng.Int64N(records))
				v := c.vals.next()
				t0 := time.Now()
				if err := e.PutDurable(c.key, v); err != nil {
					c.res.Err = fmt.Errorf("durable put: %w", err)
					return
				}
				t1 := time.Now()
				c.res.Hist.record(t1.Sub(t0))
				c.res.Logical += int64(len(c.key) + len(v))
				c.res.Ops++
				if t1.After(deadline) {
					return
				}
			}
		}()
	}
	wg.Wait()
	total := &Result{Dur: time.Since(start)}
	for _, c := range cs {
		total.Ops += c.res.Ops
		total.Logical += c.res.Logical
		total.Hist.merge(&c.res.Hist)
		if total.Err == nil {
			total.Err = c.res.Err
		}
	}
	total.DiskBytes = diskWriteBytes() - w0
	return total
}
