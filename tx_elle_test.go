package sled

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sledgo/sled/internal/elle"
	"github.com/sledgo/sled/internal/testutil"
)

// The serializability check: concurrent list-append transactions (each
// appends unique values to a few keys and reads others; the lists reveal
// each key's version order), single-key appends through Update, and
// read-only Views, recorded and checked for dependency cycles by
// internal/elle.

func encodeList(l []int) []byte {
	var sb strings.Builder
	for i, v := range l {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(v))
	}
	return []byte(sb.String())
}

func decodeList(b []byte) ([]int, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(string(b), ",") {
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("bad list %q", b)
		}
		out = append(out, v)
	}
	return out, nil
}

// runListAppend runs the workload and returns its history.
func runListAppend(t *testing.T, seed uint64, workers, txPerWorker, keys int) []elle.Txn {
	db, err := Config{Temporary: true, NodeMaxEntries: 4}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	trees := []*Tree{db.Tree}
	if other, err := db.OpenTree("other"); err == nil {
		trees = append(trees, other)
	}
	key := func(k int) (*Tree, []byte) { return trees[k%len(trees)], []byte(fmt.Sprintf("k%d", k)) }
	var next atomic.Int64
	var mu sync.Mutex
	var hist []elle.Txn
	var id atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; i < txPerWorker; i++ {
				var plan []elle.Op
				for n := 1 + rng.IntN(4); n > 0; n-- {
					k := strconv.Itoa(rng.IntN(keys))
					if rng.IntN(2) == 0 {
						plan = append(plan, elle.Op{Kind: elle.Append, Key: k, Value: int(next.Add(1))})
					} else {
						plan = append(plan, elle.Op{Kind: elle.Read, Key: k})
					}
				}
				txn := elle.Txn{ID: int(id.Add(1))}
				var err error
				switch r := rng.IntN(10); {
				case r == 0: // a single-key append
					op := elle.Op{Kind: elle.Append, Key: plan[0].Key, Value: int(next.Add(1))}
					tr, k := key(atoi(op.Key))
					_, err = tr.Update(k, func(old []byte) []byte {
						l, _ := decodeList(old)
						return encodeList(append(l, op.Value))
					})
					txn.Ops = []elle.Op{op}
				case r <= 2: // a view reading everything through ranges
					err = db.View(func(tx *Tx) error {
						txn.Ops = txn.Ops[:0]
						for _, tr := range trees {
							it := tx.Range(tr, nil, nil)
							for it.Next() {
								l, err := decodeList(it.Value())
								if err != nil {
									return err
								}
								txn.Ops = append(txn.Ops, elle.Op{Kind: elle.Read, Key: string(it.Key()[1:]), List: l})
							}
							if err := it.Err(); err != nil {
								return err
							}
						}
						return nil
					})
				default:
					err = db.Transaction(func(tx *Tx) error {
						txn.Ops = txn.Ops[:0]
						for _, op := range plan {
							tr, k := key(atoi(op.Key))
							v, err := tx.Get(tr, k)
							if err != nil {
								return err
							}
							l, err := decodeList(v)
							if err != nil {
								return err
							}
							if op.Kind == elle.Read {
								op.List = l
							} else if err := tx.Insert(tr, k, encodeList(append(l, op.Value))); err != nil {
								return err
							}
							txn.Ops = append(txn.Ops, op)
						}
						return nil
					})
				}
				if err != nil && !errors.Is(err, ErrConflict) {
					t.Error(err)
					return
				}
				txn.Committed = err == nil
				mu.Lock()
				hist = append(hist, txn)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	return hist
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func TestSerializableListAppend(t *testing.T) {
	seed := testutil.Seed(t)
	n := 400
	if testing.Short() {
		n = 150
	}
	hist := runListAppend(t, seed, 4, n, 6)
	if err := elle.Check(hist); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	t.Logf("seed %d: %d transactions serializable", seed, len(hist))
}

// The checker catches a commit that skips read validation.
func TestSerializableCheckerCatchesSkippedValidation(t *testing.T) {
	validationOff.Store(true)
	defer validationOff.Store(false)
	seed := testutil.Seed(t)
	for i := uint64(0); i < 5; i++ {
		if err := elle.Check(runListAppend(t, seed+i, 4, 150, 3)); err != nil {
			t.Logf("seed %d: caught: %v", seed+i, err)
			return
		}
	}
	t.Fatal("five histories without read validation passed the serializability check")
}
