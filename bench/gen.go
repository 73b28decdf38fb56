package main

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
)

// The request-distribution generators of YCSB (core/src/main/java/site/ycsb/
// generator), ported as-is: ZipfianGenerator (Gray et al., "Quickly
// Generating Billion-Record Synthetic Databases"), ScrambledZipfianGenerator
// and SkewedLatestGenerator. A generator is not safe for concurrent use: each
// client goroutine owns its own.

const (
	zipfianConstant = 0.99
	// YCSB's ScrambledZipfianGenerator draws from a fixed space of 10^10
	// items, whose zeta is precomputed, then hashes into the real range.
	scrambledItemCount = 10000000000
	scrambledZetan     = 26.46902820178302
)

// zipfian draws integers in [base, base+items) with item base the most popular.
type zipfian struct {
	rng            *rand.Rand
	base           int64
	items          int64
	theta          float64
	zeta2theta     float64
	alpha          float64
	zetan          float64
	eta            float64
	countForZeta   int64
	allowItemCount bool
}

func zetaStatic(st, n int64, theta, initialSum float64) float64 {
	sum := initialSum
	for i := st; i < n; i++ {
		sum += 1 / math.Pow(float64(i+1), theta)
	}
	return sum
}

func newZipfian(rng *rand.Rand, min, max int64, theta float64) *zipfian {
	items := max - min + 1
	return newZipfianZeta(rng, min, max, theta, zetaStatic(0, items, theta, 0))
}

func newZipfianZeta(rng *rand.Rand, min, max int64, theta, zetan float64) *zipfian {
	z := &zipfian{rng: rng, base: min, items: max - min + 1, theta: theta}
	z.zeta2theta = zetaStatic(0, 2, theta, 0)
	z.alpha = 1 / (1 - theta)
	z.zetan = zetan
	z.countForZeta = z.items
	z.eta = (1 - math.Pow(2/float64(z.items), 1-theta)) / (1 - z.zeta2theta/z.zetan)
	return z
}

// nextN draws from [base, base+itemCount); like YCSB it updates zeta
// incrementally when itemCount grew (the "latest" generator's case).
func (z *zipfian) nextN(itemCount int64) int64 {
	if itemCount != z.countForZeta {
		if itemCount > z.countForZeta {
			z.zetan = zetaStatic(z.countForZeta, itemCount, z.theta, z.zetan)
		} else {
			z.zetan = zetaStatic(0, itemCount, z.theta, 0)
		}
		z.countForZeta = itemCount
		z.eta = (1 - math.Pow(2/float64(itemCount), 1-z.theta)) / (1 - z.zeta2theta/z.zetan)
	}
	u := z.rng.Float64()
	uz := u * z.zetan
	if uz < 1 {
		return z.base
	}
	if uz < 1+math.Pow(0.5, z.theta) {
		return z.base + 1
	}
	return z.base + int64(float64(itemCount)*math.Pow(z.eta*u-z.eta+1, z.alpha))
}

func (z *zipfian) next() int64 { return z.nextN(z.items) }

// fnvHash64 is YCSB's Utils.fnvhash64 (FNV-1 over the 8 little-endian bytes,
// then Math.abs).
func fnvHash64(v int64) int64 {
	h := uint64(0xCBF29CE484222325)
	for i := 0; i < 8; i++ {
		octet := uint64(v & 0xff)
		v >>= 8
		h ^= octet
		h *= 1099511628211
	}
	r := int64(h)
	if r < 0 {
		r = -r
	}
	return r
}

// scrambledZipfian spreads the popular items over the range by hashing, so
// that the hot keys are not also adjacent (YCSB's default for zipfian).
type scrambledZipfian struct {
	z          *zipfian
	min, items int64
}

func newScrambledZipfian(rng *rand.Rand, min, max int64) *scrambledZipfian {
	return &scrambledZipfian{
		z:     newZipfianZeta(rng, 0, scrambledItemCount, zipfianConstant, scrambledZetan),
		min:   min,
		items: max - min + 1,
	}
}

func (s *scrambledZipfian) next() int64 {
	return s.min + fnvHash64(s.z.next())%s.items
}

// counter is YCSB's AcknowledgedCounterGenerator shared by the clients of
// one run: the insert sequence of workloads D and E. nextInsert hands out
// the next key number; ack marks it written; last() is the highest key
// number below which every insert has been acknowledged, so choosers never
// pick a key whose insert is still in flight.
type counter struct {
	issued atomic.Int64
	acked  atomic.Int64
}

func (c *counter) reset(n int64)     { c.issued.Store(n); c.acked.Store(n) }
func (c *counter) nextInsert() int64 { return c.issued.Add(1) - 1 }
func (c *counter) last() int64       { return c.acked.Load() - 1 }

// ack marks k acknowledged; acknowledgements complete in key order (a
// client waits, briefly, for the inserts issued before its own).
func (c *counter) ack(k int64) {
	for c.acked.Load() != k {
		runtime.Gosched()
	}
	c.acked.Store(k + 1)
}

// latest is YCSB's SkewedLatestGenerator: the most recently inserted items
// are the most popular.
type latest struct {
	basis *counter
	z     *zipfian
}

func newLatest(rng *rand.Rand, basis *counter) *latest {
	return &latest{basis: basis, z: newZipfian(rng, 0, basis.last()-1, zipfianConstant)}
}

func (l *latest) next() int64 {
	max := l.basis.last()
	return max - l.z.nextN(max)
}

// keyName is YCSB's buildKeyName with insertorder=hashed: "user" followed by
// the decimal FNV hash of the key number.
func keyName(dst []byte, keynum int64) []byte {
	dst = append(dst[:0], "user"...)
	return strconv.AppendInt(dst, fnvHash64(keynum), 10)
}
