package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// hist is a log-linear latency histogram (32 sub-buckets per power of two,
// about 3% relative precision) of nanoseconds; one per client goroutine,
// merged at the end.
type hist struct {
	counts [1920]uint64
	n      uint64
}

func bucketOf(v uint64) int {
	if v < 64 {
		return int(v)
	}
	s := bits.Len64(v) - 6
	m := v >> s // in [32, 64)
	return 64 + (s-1)*32 + int(m-32)
}

// bucketValue returns the upper bound of bucket i.
func bucketValue(i int) uint64 {
	if i < 64 {
		return uint64(i)
	}
	s := (i-64)/32 + 1
	m := uint64((i-64)%32 + 32)
	return ((m + 1) << s) - 1
}

func (h *hist) record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[bucketOf(v)]++
	h.n++
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	target := uint64(q*float64(h.n-1)) + 1
	var acc uint64
	for i, c := range h.counts {
		acc += c
		if acc >= target {
			return time.Duration(bucketValue(i))
		}
	}
	return 0
}

// sink keeps the results of scans alive.
var sinkN atomic.Int64

func keep(n int) { sinkN.Add(int64(n)) }
