package sled

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/sledgo/sled/vfs"
)

// Regression: records that a killed process wrote but did not sync, which
// the next Open replays and reports durable, must be synced by that Open.
func TestReopenAfterProcessCrashThenPowerLoss(t *testing.T) {
	mem := vfs.NewMem()
	cfg := Config{Path: "db", FS: mem, FlushEvery: -1, SegmentSizeBytes: 64 << 10}
	a, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	a.clean.off.Store(true) // A must not touch files once "killed"
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		if _, err := a.Insert([]byte(fmt.Sprintf("k%04d", i)), bytes.Repeat([]byte{'v'}, 300)); err != nil {
			t.Fatal(err)
		}
	}
	// A's I/O goroutine still writes the buffers that are ready; a killed
	// process would not write after B opens, so wait until it is done.
	for w := a.log.Written(); ; {
		time.Sleep(20 * time.Millisecond)
		if now := a.log.Written(); now == w {
			break
		} else {
			w = now
		}
	}
	t.Logf("A: written %d stable %d", a.log.Written(), a.log.Stable())
	a.lock.Close() // "process crash": A stops, its written data stays in the OS
	b, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	n, _ := b.Len()
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("B saw %d keys, Flush and Close succeeded", n)
	pl := mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
	c, err := Config{Path: "db", FS: pl, FlushEvery: -1, SegmentSizeBytes: 64 << 10}.Open()
	if err != nil {
		t.Fatalf("open after power loss: %v", err)
	}
	names, _ := pl.List("db")
	lnames, _ := pl.List("db/log")
	t.Logf("C: files %v log %v recovered %v trees %v tail %d", names, lnames, c.WasRecovered(), c.TreeNames(), c.log.Tail())
	m, err := c.Len()
	t.Logf("C len %d err %v; check %v", m, err, c.Check())
	if m != n {
		t.Fatalf("B saw %d keys and flushed; after power loss %d", n, m)
	}
}
