package sled

import (
	"testing"
	"time"
)

// Defect 9 (found real): a write whose CAS succeeded but whose structure
// change failed afterwards returned the error without publishing its event,
// although the write is applied and visible. Here the split after the fifth
// insert into a 4-entry leaf fails because the page table is full.
func TestEventPublishedWhenSplitFails(t *testing.T) {
	db, err := Config{Temporary: true, NodeMaxEntries: 4}.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, k := range []string{"a", "b", "c", "d"} {
		if _, err := db.Insert([]byte(k), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	s := db.WatchPrefix(nil)
	defer s.Close()
	db.pc.SetNext(1<<30 - 1) // the next page id is past the table: the split fails
	if _, err := db.Insert([]byte("e"), []byte("v")); err == nil {
		t.Fatal("the split did not fail; the test needs another way to fail it")
	}
	if v, err := db.Get([]byte("e")); err != nil || string(v) != "v" {
		t.Fatalf("the write is not applied: %q, %v", v, err)
	}
	select {
	case ev := <-s.Events():
		if string(ev.Key) != "e" || string(ev.Value) != "v" {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event for an applied write whose split failed")
	}
}
