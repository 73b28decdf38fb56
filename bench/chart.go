//go:build !nochart

package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

var engineColors = map[string]color.Color{
	"sled":   color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	"bbolt":  color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"badger": color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	"pebble": color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
}

// groupedBars draws one group per label with one bar per engine.
func groupedBars(title, ylabel string, labels, engs []string, val func(label, eng string) float64, path string) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	w := vg.Points(14)
	n := len(engs)
	for i, e := range engs {
		vs := make(plotter.Values, len(labels))
		for j, l := range labels {
			vs[j] = val(l, e)
		}
		bars, err := plotter.NewBarChart(vs, w)
		if err != nil {
			return err
		}
		bars.LineStyle.Width = vg.Length(0)
		if c, ok := engineColors[e]; ok {
			bars.Color = c
		} else {
			bars.Color = plotutil.Color(i)
		}
		bars.Offset = w * vg.Length(float64(i)-float64(n-1)/2)
		p.Add(bars)
		p.Legend.Add(e, bars)
	}
	p.NominalX(labels...)
	p.Y.Min = 0
	p.Y.Max *= 1.3 // room for the legend
	p.Y.Tick.Marker = humanTicks{}
	p.Add(plotter.NewGrid())
	width := vg.Length(float64(len(labels)*n)*16+120) * vg.Points(1)
	if width < 5*vg.Inch {
		width = 5 * vg.Inch
	}
	return p.Save(width, 4*vg.Inch, path)
}

func (r *Report) throughputChart(c *ConfigResult, path string) error {
	labels := append([]string{"load"}, r.workloadNames()...)
	return groupedBars(
		fmt.Sprintf("YCSB throughput, %d B values, data %s cache (%s)", c.ValueSize, c.Dataset.Name, mibStr(c.Dataset.CacheBytes)),
		"ops/s", labels, r.Plan.Engines,
		func(l, e string) float64 {
			run := c.Runs[e]
			if run == nil {
				return 0
			}
			x := run.Load
			if l != "load" {
				x = run.Workloads[l]
			}
			if x == nil || x.Err != nil {
				return 0
			}
			return x.Throughput()
		}, path)
}

func (r *Report) durableChart(d *DurableResult, path string) error {
	var labels []string
	for _, c := range r.Plan.Clients {
		labels = append(labels, clientsLabel(c))
	}
	return groupedBars(
		fmt.Sprintf("Durable writes vs clients, %d B values", d.ValueSize),
		"durable puts/s", labels, r.Plan.Engines,
		func(l, e string) float64 {
			var c int
			fmt.Sscanf(l, "%d", &c)
			x := d.Runs[e][c]
			if x == nil || x.Err != nil {
				return 0
			}
			return x.Throughput()
		}, path)
}

// txChart: tx mode's throughput of one durability, one group per workload
// and client count (TX in committed transactions/s, A+TX in ops/s).
func (r *Report) txChart(t *TxResult, durable bool, path string) error {
	var labels []string
	runOf := map[string]txRun{}
	for _, w := range r.workloadNames() {
		for _, c := range r.Plan.Clients {
			l := fmt.Sprintf("%s %dc", w, c)
			labels = append(labels, l)
			runOf[l] = txRun{durable, c, w}
		}
	}
	return groupedBars(
		fmt.Sprintf("Transactions, %s, %d B values (TX: tx/s, mixes: ops/s; Nc: N clients)", durabilityLabel(durable), t.ValueSize),
		"ops/s", labels, r.Plan.Engines,
		func(l, e string) float64 {
			x := t.Runs[e][runOf[l]]
			if x == nil || x.Err != nil {
				return 0
			}
			return x.Throughput()
		}, path)
}

// memoryChart: the memory rows per engine, in MiB.
func (r *Report) memoryChart(c *ConfigResult, path string) error {
	return groupedBars(
		fmt.Sprintf("Memory, %d B values, cache %s (sled's goal: peak RSS <= %s)", c.ValueSize, mibStr(c.Dataset.CacheBytes), mibStr(rssGoal(c.Dataset.CacheBytes))),
		"MiB", memRows, r.Plan.Engines,
		func(l, e string) float64 {
			run := c.Runs[e]
			if run == nil {
				return 0
			}
			v, _ := memVal(run.Mem, l)
			return v / mib
		}, path)
}

// humanTicks labels the y axis with k/M suffixes.
type humanTicks struct{}

func (humanTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = fmtOps(ts[i].Value)
		}
	}
	return ts
}
