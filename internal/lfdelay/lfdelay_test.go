package lfdelay_test

import (
	"testing"

	"github.com/sledgo/sled/internal/lfdelay"
)

func TestPoint(t *testing.T) {
	for range 1000 {
		lfdelay.Point("test")
	}
	if !lfdelay.Enabled {
		return
	}
	var seen []string
	h := func(name string) { seen = append(seen, name) }
	lfdelay.Hook.Store(&h)
	defer lfdelay.Hook.Store(nil)
	lfdelay.Point("a")
	lfdelay.Point("b")
	if len(seen) != 2 || seen[0] != "a" || seen[1] != "b" {
		t.Fatalf("hook saw %v", seen)
	}
}
