package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTxAdapters: every adapter with transactions reads and writes its keys
// in RMW, non-durable and durable, and what it wrote survives a reopen;
// pebble has none.
func TestTxAdapters(t *testing.T) {
	for _, spec := range engines {
		t.Run(spec.name, func(t *testing.T) {
			dir := t.TempDir()
			e, err := spec.open(Options{Dir: dir, CacheBytes: 8 << 20, Clients: 2, Tx: true})
			if err != nil {
				t.Fatal(err)
			}
			te, ok := e.(TxEngine)
			if spec.name == "pebble" {
				e.Close()
				if ok {
					t.Fatal("pebble adapter has transactions")
				}
				return
			}
			if !ok {
				e.Close()
				t.Fatalf("%s adapter has no transactions", spec.name)
			}
			keys := make([][]byte, txKeys)
			for i := range keys {
				keys[i] = keyName(nil, int64(i))
				if i > 0 { // the first key absent
					if err := e.Put(keys[i], []byte("old")); err != nil {
						t.Fatal(err)
					}
				}
			}
			vals := func(round int) [][]byte {
				vs := make([][]byte, txKeys)
				for i := range vs {
					vs[i] = []byte(fmt.Sprintf("round %d key %d", round, i))
				}
				return vs
			}
			check := func(e Engine, round int) {
				t.Helper()
				for i, k := range keys {
					v, ok, err := e.Get(k)
					if want := vals(round)[i]; err != nil || !ok || !bytes.Equal(v, want) {
						t.Fatalf("round %d: Get(%s) = %q, %v, %v; want %q", round, k, v, ok, err, want)
					}
				}
			}
			found, retries, err := te.RMW(keys, vals(1))
			if err != nil || found != txKeys-1 || retries != 0 {
				t.Fatalf("RMW = %d found, %d retries, %v; want %d, 0, nil", found, retries, err, txKeys-1)
			}
			check(e, 1)
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			e, err = spec.open(Options{Dir: dir, CacheBytes: 8 << 20, Durable: true, Clients: 1, Tx: true})
			if err != nil {
				t.Fatal(err)
			}
			check(e, 1)
			if found, _, err := e.(TxEngine).RMW(keys, vals(2)); err != nil || found != txKeys {
				t.Fatalf("durable RMW = %d found, %v; want %d", found, err, txKeys)
			}
			check(e, 2)
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			e, err = spec.open(Options{Dir: dir, CacheBytes: 8 << 20, Tx: true})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			check(e, 2)
		})
	}
}

// TestTxMode runs tx mode's load, runs and report briefly on every engine
// with transactions, through the same code paths as the command.
func TestTxMode(t *testing.T) {
	p := txPlan()
	p.Records, p.Dur, p.Clients, p.Threads = 500, 40*time.Millisecond, []int{1, 8}, 2
	p.Engines = strings.Split(txEngineNames, ",")
	res := runTx(p, 100, "", "")
	for _, e := range p.Engines {
		if x := res.Load[e]; x == nil || x.Err != nil || x.Ops != p.Records {
			t.Fatalf("%s load: %+v", e, x)
		}
		for _, d := range txDurabilities {
			for _, c := range p.Clients {
				for _, w := range p.Workloads {
					x := res.Runs[e][txRun{d, c, w.Name}]
					if x == nil {
						t.Fatalf("%s %s %d clients %s: no result", e, durabilityLabel(d), c, w.Name)
					}
					// Every client runs at least one operation; TX's are
					// transactions (a slow durable A+TX may have none).
					if x.Err != nil || x.Ops == 0 || (w.Name == "TX" && x.OpCounts[opTx] == 0) {
						t.Fatalf("%s %s %d clients %s: %d ops %v, %v", e, durabilityLabel(d), c, w.Name, x.Ops, x.OpCounts, x.Err)
					}
					if x.NotFound != 0 {
						t.Errorf("%s %s %d clients %s: %d keys not found", e, durabilityLabel(d), c, w.Name, x.NotFound)
					}
				}
			}
		}
	}
	md, err := (&Report{Plan: p, Tx: []*TxResult{res}}).write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, "| 8 clients, durable |") || strings.Contains(md, "Errors:") {
		t.Fatalf("tx.md:\n%s", md)
	}
	// pebble has no transactions: its load fails, the others run.
	p.Engines, p.Clients = []string{"pebble", "sled"}, []int{1}
	res = runTx(p, 100, "", "")
	if x := res.Load["pebble"]; x == nil || !errors.Is(x.Err, errNoTx) {
		t.Fatalf("pebble in tx mode: %v", x)
	}
	if x := res.Runs["sled"][txRun{false, 1, "TX"}]; x == nil || x.Err != nil || x.Ops == 0 {
		t.Fatal("sled beside pebble did not run")
	}
}
