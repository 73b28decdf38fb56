package pagecache

import "runtime/metrics"

// NodeBudget returns how many bytes of resident nodes a cache may hold so
// that the memory the process holds for them stays within capacity: the
// nodes live on the Go heap, and the collector lets the heap grow to
// (1 + GOGC/100) times what is live before it collects, so with the default
// GOGC of 100 a cache of live nodes the size of the capacity makes the
// process hold twice that. The budget is capacity * 100 / (100 + GOGC): half
// the capacity by default, more with a lower GOGC. With the collector off
// (GOGC=off) the heap is bounded only by GOMEMLIMIT, and the budget is the
// capacity. It reads the setting at the time of the call (Open).
func NodeBudget(capacity int64) int64 {
	if capacity <= 0 {
		return capacity
	}
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return capacity / 2 // unknown runtime: assume the default
	}
	return budgetFor(capacity, s[0].Value.Uint64())
}

func budgetFor(capacity int64, gogc uint64) int64 {
	if gogc == 0 || gogc > 1<<20 {
		return capacity // off, or a percentage so high it means off
	}
	return int64(float64(capacity) * 100 / float64(100+gogc))
}

// SlotChargePercent is the share of a node slot's bytes to count against a
// capacity that NodeBudget scaled: NodeBudget(100), in percent. A slot
// lies outside the Go heap, so it costs the process its size once while a
// heap byte of the budget stands for (1 + GOGC/100) bytes (M2).
func SlotChargePercent() int64 { return max(NodeBudget(100), 1) }
