package main

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"
)

// TestMain lets a test re-run this binary as a bench child (childEnv set):
// the child is main, as it is for the bench binary.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRunWireRoundTrip(t *testing.T) {
	r := &Result{Ops: 7, Dur: time.Second, OpCounts: [numOps]int64{1, 2}, NotFound: 3, Logical: 4, DiskBytes: 5, Aborts: 6, Retries: 8}
	r.Hist.record(12345)
	r.Hist.record(7)
	run := &EngineRun{
		Load:          r,
		Workloads:     map[string]*Result{"A": {Ops: 9, Err: errors.New("boom")}},
		SizeAfterLoad: 10, SizeAtClose: 11, LiveLogical: 12, TotalLogical: 13, TotalDisk: 14,
		Stats: "s", Mem: MemStats{StartRSS: 1, PeakRSS: 2, StartHeap: 3, PeakHeap: 4, HWM: true},
		Err: errors.New("bad"),
	}
	b, err := encodeRun(run)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRun(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Err.Error() != "bad" || got.Workloads["A"].Err.Error() != "boom" {
		t.Fatalf("errors: %v, %v", got.Err, got.Workloads["A"].Err)
	}
	got.Err, got.Workloads["A"].Err, run.Err, run.Workloads["A"].Err = nil, nil, nil, nil
	if !reflect.DeepEqual(got, run) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, run)
	}
	if _, err := decodeRun(b[:len(b)/2]); err == nil {
		t.Fatal("a truncated result decoded")
	}
}

// TestEngineChild runs sled through a child process as memory mode does,
// on a tiny plan: the child's result comes back whole, with the child's own
// memory measured.
func TestEngineChild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process with a load and a 300 ms mix")
	}
	t.Cleanup(removeChildBinaries)
	args := []string{"-mode", "memory", "-records", "2000", "-dur", "300ms", "-engines", "sled", "-skip-durable"}
	p := memoryPlan()
	p.Records = 2000
	ds := p.Datasets(1024, p.Records)[0]
	run := runEngineChild(args, "sled", 1024, ds, "")
	if run.Err != nil {
		t.Fatal(run.Err)
	}
	if run.Load == nil || run.Load.Ops != 2000 {
		t.Fatalf("load: %+v", run.Load)
	}
	if a := run.Workloads["A"]; a == nil || a.Ops == 0 || a.Err != nil {
		t.Fatalf("workload A: %+v", a)
	}
	if run.Stats == "" {
		t.Error("no sled stats from the child")
	}
	if _, err := os.Stat("/proc/self/status"); err == nil && run.Mem.PeakRSS <= 0 {
		t.Errorf("child memory not measured: %+v", run.Mem)
	}
	if p := childBinaries["sled"]; p == "" {
		t.Error("no sled-only child binary was built")
	}
	bad := runEngineChild(args, "nosuchengine", 1024, ds, "")
	if bad.Err == nil {
		t.Fatal("a child for an unknown engine succeeded")
	}
}
