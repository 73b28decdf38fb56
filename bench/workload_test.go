package main

import (
	"math"
	"math/rand/v2"
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
