package sled

import (
	"testing"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/vfs"
)

// Regression: reserveIDs interleaved, step by step, with a background
// snapshot that starts past the reservation's record before it is durable.
func TestGenerateIDSnapshotRace(t *testing.T) {
	mem := vfs.NewMem()
	cfg := Config{Path: "db", FS: mem, FlushEvery: -1}
	db, err := cfg.Open()
	if err != nil {
		t.Fatal(err)
	}
	// reserveIDs, up to its Flush:
	high := db.ids.high.Load() + idBlock
	db.ids.pending.Store(high)
	if _, err := db.pc.LogMeta(codec.Section{Kind: codec.SecIDReserve, Value: high}); err != nil {
		t.Fatal(err)
	}
	// ... a background snapshot runs while reserveIDs waits in Flush:
	if err := db.snapshot(); err != nil {
		t.Fatal(err)
	}
	// ... reserveIDs resumes:
	if err := db.log.Flush(); err != nil {
		t.Fatal(err)
	}
	db.ids.high.Store(high)
	first, _ := db.GenerateID()
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	// power loss
	db2, err := Config{Path: "db", FS: mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced}), FlushEvery: -1}.Open()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := db2.GenerateID()
	if again <= first {
		t.Fatalf("GenerateID returned %d before the crash and %d after", first, again)
	}
}
