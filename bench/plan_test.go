package main

import (
	"slices"
	"testing"
)

// keep narrows a plan to the named value sizes, data sets and workloads,
// and rejects names the plan does not have.
func TestPlanKeep(t *testing.T) {
	p := fullPlan()
	if err := p.keep("1024", "larger", "C,A"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.ValueSizes, []int{1024}) || !slices.Equal(p.DurableVals, []int{1024}) {
		t.Fatalf("value sizes %v, durable %v; want [1024] both", p.ValueSizes, p.DurableVals)
	}
	if ds := p.Datasets(1024, p.Records); len(ds) != 1 || ds[0].Name != "larger" {
		t.Fatalf("data sets %v; want larger only", ds)
	}
	if len(p.Workloads) != 2 || p.Workloads[0].Name != "C" || p.Workloads[1].Name != "A" {
		t.Fatalf("workloads %v; want C, A", p.Workloads)
	}
	m := memoryPlan()
	if err := m.keep("1024", "", ""); err != nil || len(m.DurableVals) != 0 {
		t.Fatalf("memory plan: %v, durable sizes %v; want none", err, m.DurableVals)
	}
	x := txPlan()
	if err := x.keep("", "", "A+TX"); err != nil || len(x.Workloads) != 1 || x.Workloads[0].Name != "A+TX" {
		t.Fatalf("tx plan: %v, workloads %v; want A+TX", err, x.Workloads)
	}
	for _, bad := range [][3]string{{"7", "", ""}, {"", "insde", ""}, {"", "", "Z"}, {"x", "", ""}} {
		p := fullPlan()
		if err := p.keep(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("keep(%q) accepted", bad)
		}
	}
}
