package main

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestZipfianDistribution(t *testing.T) {
	const items, draws = 1000, 400_000
	rng := rand.New(rand.NewPCG(1, 2))
	z := newZipfian(rng, 0, items-1, zipfianConstant)
	counts := make([]int, items)
	for i := 0; i < draws; i++ {
		v := z.next()
		if v < 0 || v >= items {
			t.Fatalf("draw %d out of [0,%d)", v, items)
		}
		counts[v]++
	}
	// P(i) = (1/(i+1)^theta) / zeta(n): compare the head with the exact law.
	zeta := zetaStatic(0, items, zipfianConstant, 0)
	// Gray's method is exact for the two first items and approximate after.
	for i := 0; i < 5; i++ {
		want := draws / math.Pow(float64(i+1), zipfianConstant) / zeta
		got := float64(counts[i])
		tol := 0.05
		if i >= 2 {
			tol = 0.25
		}
		if math.Abs(got-want) > tol*want {
			t.Errorf("item %d drawn %v times, want about %.0f", i, got, want)
		}
	}
	// Monotone-ish: the first item is the most popular, the head dominates.
	head := 0
	for i := 0; i < items/10; i++ {
		head += counts[i]
	}
	if f := float64(head) / draws; f < 0.6 || f > 0.8 {
		t.Errorf("top 10%% of items got %.2f of the draws, want ~0.7 for theta 0.99", f)
	}
}

func TestScrambledZipfianSpreadsHotKeys(t *testing.T) {
	const items, draws = 10_000, 200_000
	rng := rand.New(rand.NewPCG(3, 4))
	s := newScrambledZipfian(rng, 0, items-1)
	counts := make(map[int64]int)
	for i := 0; i < draws; i++ {
		v := s.next()
		if v < 0 || v >= items {
			t.Fatalf("draw %d out of range", v)
		}
		counts[v]++
	}
	// Skewed: the hottest key takes several percent of all draws...
	maxKey, maxN := int64(0), 0
	for k, n := range counts {
		if n > maxN {
			maxKey, maxN = k, n
		}
	}
	if f := float64(maxN) / draws; f < 0.02 {
		t.Errorf("hottest key has %.3f of the draws, want a skew (> 0.02)", f)
	}
	// ...but it is not key 0: scrambling moved it.
	if maxKey == 0 {
		t.Errorf("the hottest key is 0: not scrambled")
	}
	// And the hot keys are spread over the whole range.
	var lowHalf int
	for k, n := range counts {
		if k < items/2 {
			lowHalf += n
		}
	}
	if f := float64(lowHalf) / draws; f < 0.2 || f > 0.8 {
		t.Errorf("lower half of the range got %.2f of the draws", f)
	}
}

func TestLatestFavoursRecentInserts(t *testing.T) {
	var c counter
	c.reset(1000)
	rng := rand.New(rand.NewPCG(5, 6))
	l := newLatest(rng, &c)
	recent := 0
	const draws = 100_000
	for i := 0; i < draws; i++ {
		v := l.next()
		if v < 0 || v > c.last() {
			t.Fatalf("draw %d outside [0,%d]", v, c.last())
		}
		if v >= c.last()-10 {
			recent++
		}
	}
	if f := float64(recent) / draws; f < 0.3 {
		t.Errorf("the 10 latest items got %.2f of the draws, want most", f)
	}
	// After more inserts, the newest key becomes reachable and popular.
	for i := 0; i < 500; i++ {
		k := c.nextInsert()
		c.ack(k)
	}
	if c.last() != 1499 {
		t.Fatalf("last = %d, want 1499", c.last())
	}
	hits := 0
	for i := 0; i < draws; i++ {
		v := l.next()
		if v > 1499 {
			t.Fatalf("draw %d beyond the last acknowledged insert", v)
		}
		if v >= 1490 {
			hits++
		}
	}
	if float64(hits)/draws < 0.3 {
		t.Errorf("new latest items got %.2f of the draws", float64(hits)/draws)
	}
}

func TestFNVHashMatchesYCSB(t *testing.T) {
	// YCSB's fnvhash64 is FNV-1a over the 8 little-endian bytes, then Math.abs.
	for _, v := range []int64{0, 1, 255, 256, 123456789, 1 << 40} {
		h := fnv.New64a()
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
		want := int64(h.Sum64())
		if want < 0 {
			want = -want
		}
		if got := fnvHash64(v); got != want {
			t.Errorf("fnvHash64(%d) = %d, want %d", v, got, want)
		}
	}
	if got := string(keyName(nil, 0)); got != "user"+strconv.FormatInt(fnvHash64(0), 10) {
		t.Errorf("keyName(0) = %q", got)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 10000; i++ {
		h.record(timeDur(i * 1000))
	}
	for _, c := range []struct {
		q    float64
		want float64
	}{{0.5, 5e6}, {0.99, 9.9e6}} {
		got := float64(h.quantile(c.q))
		if math.Abs(got-c.want)/c.want > 0.04 {
			t.Errorf("quantile(%v) = %v, want ~%v", c.q, got, c.want)
		}
	}
	for v := uint64(0); v < 1<<20; v += 997 {
		if b := bucketOf(v); bucketValue(b) < v || (b > 0 && bucketValue(b-1) >= v) {
			t.Fatalf("value %d in bucket %d with bounds (%d, %d]", v, b, bucketValue(b-1), bucketValue(b))
		}
	}
}
