package main

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchOut runs bench with tiny parameters plus args and returns stdout.
func benchOut(t *testing.T, args ...string) string {
	t.Helper()
	args = append([]string{"bench", "-keys", "1000", "-duration", "100ms", "-goroutines", "2"}, args...)
	code, out, errOut := runArgs(args...)
	if code != exitOK || errOut != "" {
		t.Fatalf("%q: exit %d, stderr %q, stdout:\n%s", args, code, errOut, out)
	}
	return out
}

// field returns the value of the "name  value" line of out.
func field(t *testing.T, out, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` {2,}(.*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q line in:\n%s", name, out)
	}
	return m[1]
}

// row returns the cells of the result table's row for op.
func row(t *testing.T, out, op string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 8 && f[0] == op {
			return f
		}
	}
	t.Fatalf("no %q row in:\n%s", op, out)
	return nil
}

func TestBenchWorkloads(t *testing.T) {
	for _, w := range benchWorkloads {
		t.Run(w, func(t *testing.T) {
			out := benchOut(t, "-workload", w, "-seed", "42")
			for _, name := range []string{"workload", "seed", "keys", "value size", "goroutines", "database",
				"total ops", "total time", "heap in use", "size on disk", "trees", "pages", "cache bytes",
				"page updates", "page images", "page fragments"} {
				field(t, out, name)
			}
			if got := field(t, out, "seed"); got != "42" {
				t.Errorf("seed %q", got)
			}
			header := row(t, out, "op")
			if strings.Join(header, " ") != "op ops ops/s mean p50 p99 p999 max" {
				t.Errorf("table header %q", header)
			}
			if w != "load" && !strings.Contains(out, "\nload        1000 keys in ") {
				t.Errorf("no load line:\n%s", out)
			}
			want := map[string][]string{
				"load": {"insert"}, "read": {"get"}, "write": {"insert"}, "mixed": {"get", "insert", "all"}, "scan": {"scan"},
			}[w]
			var sum int64
			for _, op := range want {
				r := row(t, out, op)
				n, err := strconv.ParseInt(r[1], 10, 64)
				if err != nil || n <= 0 {
					t.Errorf("%s ops %q", op, r[1])
				}
				if op != "all" {
					sum += n
				}
			}
			if got := field(t, out, "total ops"); got != strconv.FormatInt(sum, 10) {
				t.Errorf("total ops %s, rows sum to %d", got, sum)
			}
			switch w {
			case "read", "mixed":
				if got := field(t, out, "get misses"); got != "0" {
					t.Errorf("get misses %s after loading every key", got)
				}
			case "load":
				// Without -duration a load inserts every key.
				if sum != 1000 {
					t.Errorf("load inserted %d keys, want 1000", sum)
				}
			}
		})
	}
}

func TestBenchOps(t *testing.T) {
	out := benchOut(t, "-ops", "777", "-duration", "1h", "-node-entries", "4")
	if got := field(t, out, "total ops"); got != "777" {
		t.Errorf("total ops %s, want 777", got)
	}
	out = benchOut(t, "-workload", "load", "-ops", "300")
	if got := field(t, out, "total ops"); got != "300" {
		t.Errorf("load -ops 300: total ops %s", got)
	}
}

// The measured run ends at -duration, however fast the operations are.
func TestBenchDuration(t *testing.T) {
	start := time.Now()
	out := benchOut(t, "-workload", "read", "-duration", "300ms")
	elapsed := time.Since(start)
	took, err := time.ParseDuration(field(t, out, "total time"))
	if err != nil {
		t.Fatal(err)
	}
	if took < 300*time.Millisecond || took > 1300*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("run took %v (whole bench %v) for -duration 300ms", took, elapsed)
	}
}

func TestBenchUsage(t *testing.T) {
	cases := map[string][]string{
		"workload":     {"-workload", "nope"},
		"keys":         {"-keys", "0"},
		"value-size":   {"-value-size", "-1"},
		"goroutines":   {"-goroutines", "0"},
		"duration":     {"-duration", "0s"},
		"ops":          {"-ops", "-1"},
		"read-ratio":   {"-read-ratio", "1.5"},
		"node-entries": {"-node-entries", "2"},
		"not-a-flag":   {"-bogus"},
		"bad value":    {"-keys", "many"},
		"argument":     {"extra"},
	}
	for name, args := range cases {
		code, out, errOut := runArgs(append([]string{"bench"}, args...)...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "usage: sled bench") {
			t.Errorf("%s %q: exit %d, stdout %q, stderr %q", name, args, code, out, errOut)
		}
	}
	// Every problem is reported at once.
	_, _, errOut := runArgs("bench", "-keys", "0", "-read-ratio", "2")
	if !strings.Contains(errOut, "-keys 0") || !strings.Contains(errOut, "-read-ratio 2") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestBenchPath(t *testing.T) {
	h := persistentHarness(t)
	out := benchOut(t, "-path", h.path, "-workload", "write")
	if got := field(t, out, "database"); !strings.HasPrefix(got, h.path) {
		t.Errorf("database %q", got)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for v := int64(1); v <= 100_000; v++ {
		h.record(time.Duration(v))
	}
	for _, q := range []float64{0.5, 0.99, 0.999} {
		want := q * 100_000
		if got := float64(h.quantile(q)); math.Abs(got-want)/want > 0.033 {
			t.Errorf("quantile(%v) = %v, want %v ± 3.3%%", q, got, want)
		}
	}
	if h.max != 100_000 || h.mean() != 50_000 || h.count != 100_000 {
		t.Errorf("max %d mean %d count %d", h.max, h.mean(), h.count)
	}
	// Bucket indexes grow with the value, stay in range, and each bucket's
	// midpoint is within 1/32 of the values it holds.
	prev := -1
	for v := int64(0); v < 1<<20; v += 1 + v/64 {
		i := histIndex(v)
		if i < prev || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d after %d", v, i, prev)
		}
		prev = i
		if mid := histValue(i); math.Abs(float64(mid-v)) > float64(v)/32+1 {
			t.Fatalf("histValue(histIndex(%d)) = %d", v, mid)
		}
	}
	if i := histIndex(math.MaxInt64); i >= histBuckets {
		t.Fatalf("histIndex(max) = %d", i)
	}
	var empty histogram
	if empty.quantile(0.5) != 0 || empty.mean() != 0 {
		t.Error("empty histogram")
	}
}

func TestPermutation(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 7, 64, 1000, 1025} {
		for _, seed := range []uint64{1, 2} {
			p := newPermutation(n, seed)
			seen := make([]bool, n)
			inPlace := 0
			for i := uint64(0); i < n; i++ {
				x := p.at(i)
				if x >= n || seen[x] {
					t.Fatalf("n %d seed %d: at(%d) = %d repeats or is out of range", n, seed, i, x)
				}
				seen[x] = true
				if x == i {
					inPlace++
				}
			}
			if n >= 1000 && inPlace > int(n)/20 {
				t.Errorf("n %d seed %d: %d fixed points; not shuffled", n, seed, inPlace)
			}
		}
	}
}
