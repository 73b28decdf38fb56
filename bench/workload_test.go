package main

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func timeDur(ns int) time.Duration { return time.Duration(ns) }

func TestWorkloadDefinitions(t *testing.T) {
	want := map[string][numOps]float64{
		"A": {opRead: 0.5, opUpdate: 0.5},
		"B": {opRead: 0.95, opUpdate: 0.05},
		"C": {opRead: 1},
		"D": {opRead: 0.95, opInsert: 0.05},
		"E": {opScan: 0.95, opInsert: 0.05},
		"F": {opRead: 0.5, opRMW: 0.5},
	}
	for _, w := range ycsb {
		if w.Props != want[w.Name] {
			t.Errorf("workload %s: proportions %v, want %v", w.Name, w.Props, want[w.Name])
		}
		sum := 0.0
		for _, p := range w.Props {
			sum += p
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("workload %s: proportions sum to %v", w.Name, sum)
		}
		wantDist := "zipfian"
		if w.Name == "D" {
			wantDist = "latest"
		}
		if w.Dist != wantDist {
			t.Errorf("workload %s: distribution %s, want %s", w.Name, w.Dist, wantDist)
		}
	}
}

func TestChooseOpProportions(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const draws = 200_000
	for _, w := range ycsb {
		var counts [numOps]int
		for i := 0; i < draws; i++ {
			counts[w.chooseOp(rng.Float64())]++
		}
		for op, p := range w.Props {
			got := float64(counts[op]) / draws
			if math.Abs(got-p) > 0.01 {
				t.Errorf("workload %s: %s in %.3f of ops, want %.2f", w.Name, opNames[op], got, p)
			}
		}
	}
}

// TestRunWorkloadMix runs each workload against an in-memory engine and
// checks the executed mix.
func TestRunWorkloadMix(t *testing.T) {
	e := newMapEngine()
	st := &state{valueSize: 16}
	if r := load(e, st, 2000, 2, 1); r.Err != nil || r.Ops != 2000 {
		t.Fatalf("load: %d ops, err %v", r.Ops, r.Err)
	}
	for i := range ycsb {
		w := &ycsb[i]
		r := runWorkload(e, w, st, 2, time.Hour, 20_000, 9)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if r.Ops != 20_000 {
			t.Fatalf("workload %s: %d ops", w.Name, r.Ops)
		}
		for op, p := range w.Props {
			got := float64(r.OpCounts[op]) / float64(r.Ops)
			if math.Abs(got-p) > 0.02 {
				t.Errorf("workload %s: %s in %.3f of ops, want %.2f", w.Name, opNames[op], got, p)
			}
		}
		if r.NotFound != 0 {
			t.Errorf("workload %s: %d reads of absent keys", w.Name, r.NotFound)
		}
	}
	if st.inserts.last() < 2000 {
		t.Errorf("no inserts recorded: last = %d", st.inserts.last())
	}
}

func TestTxWorkloadDefinitions(t *testing.T) {
	want := map[string][numOps]float64{
		"TX":   {opTx: 1},
		"A+TX": {opRead: 0.45, opUpdate: 0.45, opTx: 0.1},
	}
	for _, w := range txWorkloads {
		if w.Props != want[w.Name] {
			t.Errorf("workload %s: proportions %v, want %v", w.Name, w.Props, want[w.Name])
		}
		if w.Dist != "zipfian" {
			t.Errorf("workload %s: distribution %s, want zipfian", w.Name, w.Dist)
		}
		if workloadDesc[w.Name] == "" {
			t.Errorf("workload %s: no description", w.Name)
		}
	}
}

// TestChooseTxKeys: every transaction gets txKeys distinct keys of the
// loaded key space, drawn zipfian (hot keys far above their uniform share),
// and a key space of exactly txKeys keys yields all of them.
func TestChooseTxKeys(t *testing.T) {
	st := &state{records: 10_000}
	st.inserts.reset(st.records)
	c := newClient(&txWorkloads[0], st, 5)
	const draws = 50_000
	counts := map[int64]int{}
	for i := 0; i < draws; i++ {
		ks := c.chooseTxKeys()
		for j, k := range ks {
			if k < 0 || k >= st.records {
				t.Fatalf("draw %d: key %d outside [0, %d)", i, k, st.records)
			}
			for _, o := range ks[:j] {
				if o == k {
					t.Fatalf("draw %d: key %d twice in %v", i, k, ks)
				}
			}
			counts[k]++
		}
	}
	hottest := 0
	for _, n := range counts {
		hottest = max(hottest, n)
	}
	// Uniform: each key in 4*draws/records = 20 transactions; the zipfian's
	// hottest key is in several percent of them.
	if uniform := txKeys * draws / int(st.records); hottest < 50*uniform {
		t.Errorf("hottest key in %d transactions; uniform would be %d: not zipfian", hottest, uniform)
	}

	small := &state{records: txKeys}
	small.inserts.reset(small.records)
	c = newClient(&txWorkloads[0], small, 6)
	for i := 0; i < 100; i++ {
		ks := c.chooseTxKeys()
		seen := map[int64]bool{}
		for _, k := range ks {
			seen[k] = true
		}
		if len(seen) != txKeys || !seen[0] || !seen[txKeys-1] {
			t.Fatalf("key space of %d: got %v", txKeys, ks)
		}
	}
	tiny := &state{records: txKeys - 1, valueSize: 8}
	if r := runWorkloadOpts(newMapEngine(), &txWorkloads[0], tiny, 1, time.Hour, 10, 1, false); r.Err == nil {
		t.Error("transactions of 4 keys ran on 3 records")
	}
}

// mapTxEngine is mapEngine with transactions that check their keys and
// make up conflicts: every 5th is retried once (counted), every 7th aborts.
type mapTxEngine struct {
	*mapEngine
	t     *testing.T
	calls int
}

func (e *mapTxEngine) RMW(keys, vals [][]byte) (found, retries int, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if len(keys) != txKeys || len(vals) != txKeys {
		e.t.Errorf("RMW of %d keys, %d values", len(keys), len(vals))
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[string(k)] {
			e.t.Errorf("RMW with key %s twice", k)
		}
		seen[string(k)] = true
	}
	if e.calls%5 == 0 {
		retries = 1
	}
	if e.calls%7 == 0 {
		return 0, retries, errTxAborted
	}
	for i, k := range keys {
		if _, ok := e.m[string(k)]; ok {
			found++
		}
		e.m[string(k)] = slices.Clone(vals[i])
	}
	return found, retries, nil
}

// TestRunTxWorkload: committed transactions are the ops, aborted ones are
// counted apart, retries summed, the mix kept; an engine without
// transactions fails the run.
func TestRunTxWorkload(t *testing.T) {
	e := &mapTxEngine{mapEngine: newMapEngine(), t: t}
	st := &state{valueSize: 16}
	if r := load(e, st, 2000, 2, 1); r.Err != nil {
		t.Fatal(r.Err)
	}
	r := runWorkloadOpts(e, &txWorkloads[0], st, 1, time.Hour, 700, 3, false)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Ops != 600 || r.OpCounts[opTx] != 600 || r.Aborts != 100 || r.Retries != 140 {
		t.Fatalf("700 transactions: ops %d, tx %d, aborts %d, retries %d; want 600, 600, 100, 140", r.Ops, r.OpCounts[opTx], r.Aborts, r.Retries)
	}
	if r.NotFound != 0 || r.Hist.n != 600 {
		t.Errorf("not found %d, latencies %d", r.NotFound, r.Hist.n)
	}
	if want := int64(600 * txKeys * (16 + len(keyName(nil, 1)))); r.Logical < want*9/10 || r.Logical > want*11/10 {
		t.Errorf("logical bytes %d, want ~%d (committed transactions only)", r.Logical, want)
	}
	w := &txWorkloads[1]
	r = runWorkloadOpts(e, w, st, 2, time.Hour, 20_000, 4, true)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	for op, p := range w.Props {
		got := float64(r.OpCounts[op]) / float64(r.Ops+r.Aborts)
		if math.Abs(got-p) > 0.02 && op != int(opTx) {
			t.Errorf("A+TX: %s in %.3f of ops, want %.2f", opNames[op], got, p)
		}
	}
	if got := float64(r.OpCounts[opTx]+r.Aborts) / float64(r.Ops+r.Aborts); math.Abs(got-0.1) > 0.02 {
		t.Errorf("A+TX: transactions (committed or aborted) in %.3f of ops, want 0.10", got)
	}
	if r := runWorkloadOpts(newMapEngine(), &txWorkloads[0], st, 1, time.Hour, 10, 1, false); !errors.Is(r.Err, errNoTx) {
		t.Errorf("TX on an engine without transactions: %v", r.Err)
	}
}
