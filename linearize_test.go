package sled_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/sledgo/sled"
	"github.com/sledgo/sled/internal/testutil"
	"github.com/sledgo/sled/internal/tree"
)

// A history records calls and returns with timestamps from one atomic
// clock, so real-time order between operations is exact.
type history struct {
	clock atomic.Int64
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func (h *history) record(client int, in any, fn func() any) {
	if h.clock.Load()%3 == 0 {
		runtime.Gosched() // interleave more on few cores
	}
	call := h.clock.Add(1)
	out := fn()
	ret := h.clock.Add(1)
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	h.mu.Unlock()
}

// kvInput is one single-key operation.
type kvInput struct {
	op     string // get, put, del, cas, merge
	key    string
	value  string // put value, cas new value, merge operand
	old    string // cas expected value ("" with oldAbsent)
	absent bool   // cas expects absent
}

// kvOutput is what the operation returned: the value seen (for get, the
// previous value for put and del, the new value for merge) and, for cas,
// whether it succeeded.
type kvOutput struct {
	value   string
	present bool
	ok      bool
}

type kvState struct {
	value   string
	present bool
}

// kvModel is a register per key; the history is partitioned by key.
var kvModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		for _, op := range h {
			k := op.Input.(kvInput).key
			by[k] = append(by[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(by))
		for _, ops := range by {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(kvState), input.(kvInput), output.(kvOutput)
		switch in.op {
		case "get":
			return out.present == s.present && out.value == s.value, s
		case "put":
			return out.present == s.present && out.value == s.value, kvState{in.value, true}
		case "del":
			return out.present == s.present && out.value == s.value, kvState{}
		case "cas":
			match := (in.absent && !s.present) || (!in.absent && s.present && s.value == in.old)
			if out.ok != match {
				return false, s
			}
			if match {
				return true, kvState{in.value, true}
			}
			return true, s
		case "merge":
			nv := s.value + in.value
			return out.present && out.value == nv, kvState{nv, true}
		}
		return false, s
	},
	DescribeOperation: func(input, output any) string {
		return fmt.Sprintf("%+v -> %+v", input, output)
	},
}

// widenRaces makes writers yield between reading a leaf and installing
// their change, so that operations really overlap on few cores.
func widenRaces(t *testing.T) {
	var n atomic.Uint32
	hook := func() {
		if n.Add(1)%4 == 0 {
			time.Sleep(20 * time.Microsecond)
		} else {
			runtime.Gosched()
		}
	}
	tree.TestHookBeforeCAS.Store(&hook)
	t.Cleanup(func() { tree.TestHookBeforeCAS.Store(nil) })
}

func concat(key, old, operand []byte) []byte { return append(bytes.Clone(old), operand...) }

// TestLinearizableSingleKey checks concurrent histories of single-key
// operations, while other goroutines churn unrelated keys so that the
// history keys' leaves split and merge under the operations.
func TestLinearizableSingleKey(t *testing.T) {
	seed := testutil.Seed(t)
	rounds := 20
	if testing.Short() {
		rounds = 4
	}
	widenRaces(t)
	for round := 0; round < rounds; round++ {
		db, err := sled.Config{Temporary: true, NodeMaxEntries: 4}.Open()
		if err != nil {
			t.Fatal(err)
		}
		db.SetMergeOperator(concat)
		var h history
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var churn sync.WaitGroup
		for c := 0; c < 2; c++ {
			churn.Add(1)
			go func(c int) { // churn: inserts and removes of other keys
				defer churn.Done()
				rng := rand.New(rand.NewPCG(seed+uint64(round), uint64(100+c)))
				for {
					select {
					case <-stop:
						return
					default:
					}
					k := []byte(fmt.Sprintf("k%02d-%03d", rng.IntN(8), rng.IntN(60)))
					if rng.IntN(2) == 0 {
						db.Insert(k, k)
					} else {
						db.Remove(k)
					}
				}
			}(c)
		}
		for c := 0; c < 6; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed+uint64(round), uint64(c)))
				for i := 0; i < 150; i++ {
					in := randomKV(rng, fmt.Sprintf("k%02d", rng.IntN(8)), c, i, 6)
					h.record(c, in, func() any { return runKV(t, db, in) })
				}
			}(c)
		}
		wg.Wait()
		close(stop)
		churn.Wait()
		res, info := porcupine.CheckOperationsVerbose(kvModel, h.ops, 30*time.Second)
		if res == porcupine.Illegal {
			dumpViolation(t, kvModel, info)
			t.Fatalf("round %d: history is not linearizable", round)
		}
		if res == porcupine.Unknown {
			t.Logf("round %d: checker timed out", round)
		}
		if err := db.Check(); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
}

// randomKV returns client c's i-th single-key operation on key: a get,
// put, del, cas (expecting a value some of the clients may have written)
// or merge.
func randomKV(rng *rand.Rand, key string, c, i, clients int) kvInput {
	val := fmt.Sprintf("%d.%d", c, i)
	switch rng.IntN(6) {
	case 0, 1:
		return kvInput{op: "get", key: key}
	case 2:
		return kvInput{op: "put", key: key, value: val}
	case 3:
		return kvInput{op: "del", key: key}
	case 4:
		return kvInput{op: "cas", key: key, value: val, absent: rng.IntN(2) == 0, old: fmt.Sprintf("%d.%d", rng.IntN(clients), rng.IntN(i+1))}
	}
	return kvInput{op: "merge", key: key, value: "m"}
}

func runKV(t *testing.T, db *sled.DB, in kvInput) kvOutput {
	k := []byte(in.key)
	var v []byte
	var err error
	switch in.op {
	case "get":
		v, err = db.Get(k)
	case "put":
		v, err = db.Insert(k, []byte(in.value))
	case "del":
		v, err = db.Remove(k)
	case "cas":
		var old []byte
		if !in.absent {
			old = []byte(in.old)
		}
		err = db.CompareAndSwap(k, old, []byte(in.value))
		var ce *sled.CompareAndSwapError
		if errors.As(err, &ce) {
			return kvOutput{ok: false}
		}
		if err == nil {
			return kvOutput{ok: true}
		}
	case "merge":
		v, err = db.Merge(k, []byte(in.value))
	}
	if err != nil {
		t.Errorf("%+v: %v", in, err)
	}
	return kvOutput{value: string(v), present: v != nil}
}

func dumpViolation(t *testing.T, m porcupine.Model, info porcupine.LinearizationInfo) {
	for _, part := range info.PartialLinearizationsOperations() {
		for _, lin := range part {
			var b strings.Builder
			for _, op := range lin {
				fmt.Fprintf(&b, "  %s\n", m.DescribeOperation(op.Input, op.Output))
			}
			t.Logf("longest partial linearization:\n%s", b.String())
			return
		}
	}
}

// Multi-key operations over a small key space: batches, pops and ordered
// reads must be linearizable with point operations.
type mkInput struct {
	op    string // get, put, del, batch, popmin, popmax, first, last, gt
	key   string
	value string
	batch []string // keys the batch sets to value
}

type mkOutput struct {
	key, value string
	present    bool
}

// mkState is a sorted "k=v;" encoding of the map, comparable with ==.
type mkState string

func decodeMK(s mkState) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(string(s), ";") {
		if kv == "" {
			continue
		}
		i := strings.IndexByte(kv, '=')
		m[kv[:i]] = kv[i+1:]
	}
	return m
}

func encodeMK(m map[string]string) mkState {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for _, k := range ks {
		b.WriteString(k + "=" + m[k] + ";")
	}
	return mkState(b.String())
}

var mkModel = porcupine.Model{
	Init: func() any { return mkState("") },
	Step: func(state, input, output any) (bool, any) {
		m := decodeMK(state.(mkState))
		in, out := input.(mkInput), output.(mkOutput)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		edge := func(last bool) (string, bool) {
			if len(keys) == 0 {
				return "", false
			}
			if last {
				return keys[len(keys)-1], true
			}
			return keys[0], true
		}
		switch in.op {
		case "get":
			v, ok := m[in.key]
			return out.present == ok && out.value == v, state
		case "put":
			m[in.key] = in.value
		case "del":
			delete(m, in.key)
		case "batch":
			for i, k := range in.batch {
				if i%3 == 2 {
					delete(m, k)
				} else {
					m[k] = in.value
				}
			}
		case "popmin", "popmax", "first", "last":
			k, ok := edge(in.op == "popmax" || in.op == "last")
			if out.present != ok || (ok && (out.key != k || out.value != m[k])) {
				return false, state
			}
			if ok && strings.HasPrefix(in.op, "pop") {
				delete(m, k)
			}
		case "gt":
			i := sort.SearchStrings(keys, in.key)
			if i < len(keys) && keys[i] == in.key {
				i++
			}
			ok := i < len(keys)
			if out.present != ok || (ok && (out.key != keys[i] || out.value != m[keys[i]])) {
				return false, state
			}
			return true, state
		}
		return true, encodeMK(m)
	},
	DescribeOperation: func(input, output any) string {
		return fmt.Sprintf("%+v -> %+v", input, output)
	},
}

func TestLinearizableMultiKey(t *testing.T) {
	seed := testutil.Seed(t)
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	widenRaces(t)
	for round := 0; round < rounds; round++ {
		db, err := sled.Config{Temporary: true, NodeMaxEntries: 4}.Open()
		if err != nil {
			t.Fatal(err)
		}
		var h history
		var wg sync.WaitGroup
		for c := 0; c < 4; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed+uint64(round), uint64(c)))
				for i := 0; i < 40; i++ {
					key := fmt.Sprintf("k%02d", rng.IntN(12))
					val := fmt.Sprintf("%d.%d", c, i)
					ops := []string{"get", "put", "put", "del", "batch", "popmin", "popmax", "first", "last", "gt"}
					in := mkInput{op: ops[rng.IntN(len(ops))], key: key, value: val}
					if in.op == "batch" {
						for j := 0; j < 2+rng.IntN(4); j++ {
							in.batch = append(in.batch, fmt.Sprintf("k%02d", rng.IntN(12)))
						}
					}
					h.record(c, in, func() any { return runMK(t, db, in) })
				}
			}(c)
		}
		wg.Wait()
		res, info := porcupine.CheckOperationsVerbose(mkModel, h.ops, 30*time.Second)
		if res == porcupine.Illegal {
			dumpViolation(t, mkModel, info)
			t.Fatalf("round %d: history is not linearizable", round)
		}
		if err := db.Check(); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
}

func runMK(t *testing.T, db *sled.DB, in mkInput) mkOutput {
	var k, v []byte
	var err error
	switch in.op {
	case "get":
		v, err = db.Get([]byte(in.key))
		return mkOutput{value: string(v), present: v != nil}
	case "put":
		_, err = db.Insert([]byte(in.key), []byte(in.value))
	case "del":
		_, err = db.Remove([]byte(in.key))
	case "batch":
		var b sled.Batch
		for i, bk := range in.batch {
			if i%3 == 2 {
				b.Remove([]byte(bk))
			} else {
				b.Insert([]byte(bk), []byte(in.value))
			}
		}
		err = db.ApplyBatch(&b)
	case "popmin":
		k, v, err = db.PopMin()
	case "popmax":
		k, v, err = db.PopMax()
	case "first":
		k, v, err = db.First()
	case "last":
		k, v, err = db.Last()
	case "gt":
		k, v, err = db.GetGT([]byte(in.key))
	}
	if err != nil {
		t.Errorf("%+v: %v", in, err)
	}
	return mkOutput{key: string(k), value: string(v), present: k != nil}
}
