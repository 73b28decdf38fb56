package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// tx mode: serializable read-write transactions of txKeys keys, sled
// (db.Transaction) against badger (db.Update, SSI) and bbolt (db.Update, a
// single writer), non-durable and durable, at 1, 8 and 64 clients. It
// writes tx.md, so that it never overwrites the quick or full results.

// txEngineNames are tx mode's engines when -engines is not given: pebble has
// no conflict-checked read-write transactions.
const txEngineNames = "sled,bbolt,badger"

// txGoalClients is the client count sled's goals are stated at; txGoals its
// throughput goal against each peer (sled/peer at least this).
const txGoalClients = 8

var txGoals = []struct {
	peer string
	min  float64
}{{"badger", 2}, {"bbolt", 5}}

// txPlan: 100k records of 100 B (~12 MiB logical) in a 64 MiB cache, loaded
// once per engine; then TX and A+TX for 3 s each per durability, client
// count and engine.
func txPlan() Plan {
	return Plan{
		Mode:       "tx",
		Records:    100_000,
		ValueSizes: []int{100},
		Datasets:   func(int, int64) []Dataset { return []Dataset{{"inside", 64 * mib}} },
		Workloads:  txWorkloads,
		Dur:        3 * time.Second,
		Clients:    []int{1, 8, 64},
		Tx:         true,
	}
}

// txDurabilities: the non-durable rows first.
var txDurabilities = []bool{false, true}

func durabilityLabel(durable bool) string {
	if durable {
		return "durable"
	}
	return "non-durable"
}

// txRun names one run of a workload: its durability and client count.
type txRun struct {
	Durable  bool
	Clients  int
	Workload string
}

// TxResult is tx mode's outcome for one value size.
type TxResult struct {
	ValueSize  int
	CacheBytes int64
	Load       map[string]*Result           // engine -> its load
	Runs       map[string]map[txRun]*Result // engine -> run -> result
}

// txProfileName: tx.pprof -> tx.c8.pprof (non-durable), tx.durable.c8.pprof.
func txProfileName(path string, durable bool, clients int) string {
	if durable {
		ext := filepath.Ext(path)
		path = strings.TrimSuffix(path, ext) + ".durable" + ext
	}
	return profileName(path, clients)
}

// runTx loads p.Records records into every engine, each in a fresh
// directory of its own (non-durable puts, p.Threads goroutines), closes it,
// then for each durability and client count runs the workloads on every
// engine in turn, each reopened on its directory for that durability and
// client count (client-count major, so that the engines of one row run next
// to each other in time, as the durable-writes columns do). profile, when
// set, receives CPU profiles of profEngine's runs, one file per durability
// and client count.
func runTx(p Plan, vs int, profile, profEngine string) *TxResult {
	ds := p.Datasets(vs, p.Records)[0]
	res := &TxResult{ValueSize: vs, CacheBytes: ds.CacheBytes, Load: map[string]*Result{}, Runs: map[string]map[txRun]*Result{}}
	dirs := map[string]string{}
	states := map[string]*state{}
	defer func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}()
	for _, name := range p.Engines {
		res.Runs[name] = map[txRun]*Result{}
		log.Printf("tx v=%d load: %s", vs, name)
		st := &state{valueSize: vs}
		r := txLoad(name, p, vs, ds.CacheBytes, st, dirs)
		res.Load[name] = r
		if r.Err != nil {
			log.Printf("  %s load ERROR: %v", name, r.Err)
			continue
		}
		states[name] = st
		log.Printf("  %s load: %.0f ops/s", name, r.Throughput())
	}
	for _, durable := range txDurabilities {
		for _, c := range p.Clients {
			for _, name := range p.Engines {
				st := states[name]
				if st == nil {
					continue // its load failed
				}
				stop := func() {}
				if profile != "" && name == profEngine {
					stop = startProfile(txProfileName(profile, durable, c))
				}
				rs := txRuns(name, p, dirs[name], res.CacheBytes, st, durable, c)
				stop()
				for i, w := range p.Workloads {
					run := txRun{durable, c, w.Name}
					x := rs[i]
					res.Runs[name][run] = x
					log.Printf("tx v=%d %s %s clients=%d %s: %.0f ops/s (%.0f tx/s) aborts=%d retries=%d p50=%v p99=%v err=%v",
						vs, name, durabilityLabel(durable), c, w.Name, x.Throughput(), x.txThroughput(), x.Aborts, x.Retries,
						x.Hist.quantile(.5), x.Hist.quantile(.99), x.Err)
				}
			}
		}
	}
	return res
}

// txLoad opens engine name in a fresh directory (recorded in dirs), loads
// st's records and closes it.
func txLoad(name string, p Plan, vs int, cache int64, st *state, dirs map[string]string) *Result {
	spec, err := engineByName(name)
	if err != nil {
		return &Result{Err: err}
	}
	settle()
	dir, err := freshDir(name + "-tx")
	if err != nil {
		return &Result{Err: err}
	}
	dirs[name] = dir
	e, err := spec.open(Options{Dir: dir, CacheBytes: cache, Clients: p.Threads, Tx: true})
	if err != nil {
		return &Result{Err: err}
	}
	if _, ok := e.(TxEngine); !ok {
		e.Close()
		return &Result{Err: errNoTx}
	}
	r := load(e, st, p.Records, p.Threads, 1)
	if r.Err == nil {
		r.Err = e.Sync()
	}
	if err := e.Close(); err != nil && r.Err == nil {
		r.Err = err
	}
	return r
}

// txRuns reopens engine name on dir for one durability and client count and
// runs every workload of p on it; one result per workload, in p's order.
func txRuns(name string, p Plan, dir string, cache int64, st *state, durable bool, clients int) []*Result {
	rs := make([]*Result, len(p.Workloads))
	fail := func(err error) []*Result {
		for i := range rs {
			if rs[i] == nil {
				rs[i] = &Result{Err: err}
			}
		}
		return rs
	}
	spec, err := engineByName(name)
	if err != nil {
		return fail(err)
	}
	settle()
	e, err := spec.open(Options{Dir: dir, CacheBytes: cache, Durable: durable, Clients: clients, Tx: true})
	if err != nil {
		return fail(err)
	}
	for i := range p.Workloads {
		w := &p.Workloads[i]
		// The same seeds for every engine: the same key sequences.
		rs[i] = runWorkloadOpts(e, w, st, clients, p.Dur, 0, uint64(1000+100*i+clients), durable)
		if rs[i].Err != nil {
			err = fmt.Errorf("after workload %s failed", w.Name)
			break
		}
	}
	if cerr := e.Close(); cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
		if n := len(rs); n > 0 && rs[n-1] != nil && rs[n-1].Err == nil {
			rs[n-1].Err = err
		}
	}
	if err != nil {
		return fail(err) // the workloads that did not run
	}
	return rs
}

// txThroughput is committed transactions per second.
func (r *Result) txThroughput() float64 {
	if r == nil || r.Dur <= 0 {
		return 0
	}
	return float64(r.OpCounts[opTx]) / r.Dur.Seconds()
}

// txRows are the rows of tx mode's tables: durability major, then clients.
func (r *Report) txRows() (rows []string, runOf map[string]txRun) {
	runOf = map[string]txRun{}
	for _, d := range txDurabilities {
		for _, c := range r.Plan.Clients {
			row := clientsLabel(c) + ", " + durabilityLabel(d)
			rows = append(rows, row)
			runOf[row] = txRun{Durable: d, Clients: c}
		}
	}
	return rows, runOf
}

// plainTable writes a markdown table without ratio columns: one row per
// label, one column per cols entry.
func plainTable(b *strings.Builder, first string, cols, rows []string, cell func(row, col string) string) {
	b.WriteString("| " + first + " | " + strings.Join(cols, " | ") + " |\n|---|")
	b.WriteString(strings.Repeat("---:|", len(cols)) + "\n")
	for _, row := range rows {
		cells := []string{row}
		for _, col := range cols {
			cells = append(cells, cell(row, col))
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\n")
}

// writeTx is tx mode's report: per value size, the load, sled's goals,
// then per workload throughput, conflicts and (TX) latency.
func (r *Report) writeTx(b *strings.Builder, dir string) error {
	p := r.Plan
	var ws []string
	for _, w := range r.workloadNames() {
		ws = append(ws, workloadDesc[w])
	}
	fmt.Fprintf(b, "%d records (keys `user<fnv hash>`, ~23 B), loaded once per engine (non-durable puts, %d goroutines) in a fresh directory under %s; "+
		"then, for each durability and client count, each engine in turn reopens its directory and runs every workload for %v "+
		"(client-count major: the engines of one row run next to each other in time). Compression off everywhere. "+
		"Workloads (keys zipfian constant 0.99 scrambled; the %d keys of a transaction distinct, read first, then each written back with a new value): %s.\n\n",
		p.Records, p.Threads, os.TempDir(), p.Dur, txKeys, strings.Join(ws, "; "))
	b.WriteString("Transactions: sled `db.Transaction` (it re-runs the function itself on a conflict; `ErrConflict` once its retries are exhausted " +
		"counts as an aborted transaction, which the benchmark does not retry); badger `db.Update` with conflict detection on (SSI), " +
		"run again on `badger.ErrConflict` by the benchmark (each a retry; after 1000 the transaction is aborted); " +
		"bbolt `db.Update` (a single writer: transactions wait, never conflict). " +
		"Non-durable: sled without Flush (its background flush every 500 ms), badger `SyncWrites=false`, bbolt `NoSync=true`. " +
		"Durable: sled `db.Flush()` after each committed transaction (concurrent Flushes share an fsync: group commit), badger `SyncWrites=true`, " +
		"bbolt `NoSync=false` (an fsync per `Update`); the plain updates of A+TX are then durable puts, as in the durable-writes columns of results.md. " +
		"Ratios are ours/peer: above 1 is better for sled.\n\n")
	rows, runOf := r.txRows()
	for _, t := range r.Tx {
		fmt.Fprintf(b, "## %d-byte values, cache budget %s\n\n", t.ValueSize, mibStr(t.CacheBytes))
		b.WriteString("Load (ops/s):\n\n")
		r.table(b, "phase", []string{"load"}, func(_, eng string) (float64, bool) {
			x := t.Load[eng]
			return x.Throughput(), x != nil && x.Err == nil && x.Ops > 0
		}, fmtOps)
		get := func(row, eng, w string) *Result {
			run := runOf[row]
			run.Workload = w
			x := t.Runs[eng][run]
			if x == nil || x.Err != nil || x.Ops == 0 {
				return nil
			}
			return x
		}
		r.writeTxGoals(b, t)
		for _, w := range r.workloadNames() {
			fmt.Fprintf(b, "### %s\n\n", workloadDesc[w])
			if w == "TX" {
				b.WriteString("Throughput (committed transactions/s):\n\n")
			} else {
				b.WriteString("Throughput (ops/s; a committed transaction counts as one op):\n\n")
			}
			r.table(b, "clients, durability", rows, func(row, eng string) (float64, bool) {
				x := get(row, eng, w)
				return x.Throughput(), x != nil
			}, fmtOps)
			b.WriteString("Conflicts: aborted = transactions given up on a conflict / transactions attempted; " +
				"retries/tx = runs again after a conflict / committed transactions (sled: re-runs of the function inside `Transaction`; badger: the benchmark's retries; bbolt: none):\n\n")
			var cols []string
			for _, e := range p.Engines {
				cols = append(cols, e+" aborted", e+" retries/tx")
			}
			plainTable(b, "clients, durability", cols, rows, func(row, col string) string {
				eng, what, _ := strings.Cut(col, " ")
				x := get(row, eng, w)
				if x == nil {
					return "—"
				}
				committed := x.OpCounts[opTx]
				if what == "aborted" {
					if committed+x.Aborts == 0 {
						return "—"
					}
					return fmt.Sprintf("%.2f%%", 100*float64(x.Aborts)/float64(committed+x.Aborts))
				}
				if committed == 0 {
					return "—"
				}
				return fmt.Sprintf("%.3f", float64(x.Retries)/float64(committed))
			})
			if w != "TX" {
				continue // a mix: its latencies are not a transaction's
			}
			for _, q := range []struct {
				name string
				q    float64
			}{{"p50", 0.5}, {"p99", 0.99}} {
				fmt.Fprintf(b, "Latency %s of a committed transaction (its retries included):\n\n", q.name)
				r.table(b, "clients, durability", rows, func(row, eng string) (float64, bool) {
					x := get(row, eng, w)
					if x == nil {
						return 0, false
					}
					return float64(x.Hist.quantile(q.q)), true
				}, fmtDur)
			}
		}
		var errs []string
		for _, e := range p.Engines {
			if x := t.Load[e]; x != nil && x.Err != nil {
				errs = append(errs, fmt.Sprintf("- %s, load: %v", e, x.Err))
			}
			for _, row := range rows {
				for _, w := range r.workloadNames() {
					run := runOf[row]
					run.Workload = w
					if x := t.Runs[e][run]; x != nil && x.Err != nil {
						errs = append(errs, fmt.Sprintf("- %s, %s, %s: %v", e, w, row, x.Err))
					}
				}
			}
		}
		if len(errs) > 0 {
			b.WriteString("Errors:\n\n" + strings.Join(errs, "\n") + "\n\n")
		}
		for _, d := range txDurabilities {
			png := fmt.Sprintf("tx-v%d-%s.png", t.ValueSize, durabilityLabel(d))
			if err := r.txChart(t, d, filepath.Join(dir, png)); err != nil {
				return err
			}
			fmt.Fprintf(b, "![transactions v%d %s](%s)\n\n", t.ValueSize, durabilityLabel(d), png)
		}
	}
	return nil
}

// writeTxGoals compares sled with its goals at txGoalClients clients, per
// workload and durability, from the results of this run.
func (r *Report) writeTxGoals(b *strings.Builder, t *TxResult) {
	if !r.hasOurs() || !slices.Contains(r.Plan.Clients, txGoalClients) {
		return
	}
	var cols []string
	for _, g := range txGoals {
		if slices.Contains(r.Plan.Engines, g.peer) {
			cols = append(cols, fmt.Sprintf("%s/%s (goal ≥ %g)", ours, g.peer, g.min))
		}
	}
	if len(cols) == 0 {
		return
	}
	var rows []string
	runOf := map[string]txRun{}
	for _, w := range r.workloadNames() {
		for _, d := range txDurabilities {
			row := w + ", " + durabilityLabel(d)
			rows = append(rows, row)
			runOf[row] = txRun{d, txGoalClients, w}
		}
	}
	fmt.Fprintf(b, "sled's goals at %d clients (throughput ratio sled/peer, this run):\n\n", txGoalClients)
	plainTable(b, "workload, durability", cols, rows, func(row, col string) string {
		for _, g := range txGoals {
			if !strings.HasPrefix(col, ours+"/"+g.peer+" ") {
				continue
			}
			o, x := t.Runs[ours][runOf[row]], t.Runs[g.peer][runOf[row]]
			if o == nil || x == nil || o.Err != nil || x.Err != nil || o.Ops == 0 || x.Ops == 0 {
				return "—"
			}
			ratio := o.Throughput() / x.Throughput()
			verdict := "met"
			if ratio < g.min {
				verdict = "missed"
			}
			return fmt.Sprintf("%.2f %s", ratio, verdict)
		}
		return "—"
	})
}
