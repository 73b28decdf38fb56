package sled

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetaRoundTrip(t *testing.T) {
	for _, size := range []int{64 << 10, 8 << 20, 1 << 30} {
		m, err := decodeMeta(encodeMeta(meta{segmentSizeBytes: size}))
		if err != nil || m.segmentSizeBytes != size {
			t.Fatalf("round trip of %d: %+v, %v", size, m, err)
		}
	}
	good := encodeMeta(meta{segmentSizeBytes: 1 << 20})
	for i := range good {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x01
		if _, err := decodeMeta(bad); err == nil {
			t.Fatalf("flipping byte %d of %q went unnoticed", i, good)
		}
	}
	for _, cut := range []int{0, 5, len(good) - 1} {
		if _, err := decodeMeta(good[:cut]); !errors.Is(err, ErrCorruption) {
			t.Fatalf("META cut to %d bytes: %v, want ErrCorruption", cut, err)
		}
	}
}

// FuzzDecodeMeta: the META decoder never panics, and what it accepts is in
// range (FuzzMetaRoundTrip checks the round trip of decoded values).
func FuzzDecodeMeta(f *testing.F) {
	f.Add(encodeMeta(meta{segmentSizeBytes: 8 << 20}))
	f.Add([]byte("sled-meta 1\ncrc32 00000000\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			return
		}
		if m.segmentSizeBytes < 64<<10 || m.segmentSizeBytes > 1<<30 {
			t.Fatalf("accepted segment size %d", m.segmentSizeBytes)
		}
	})
}

// TestMetaVersionUpgrade: a version 1 or 2 META (written before flat page
// images, before structure fragments) opens; a read-only open leaves it
// alone, an open for writing raises it to metaVersion before writing
// anything, so that an older sled refuses the database with a version
// error instead of calling what it cannot read corrupt. A META from a
// newer sled is refused with a version error that is not corruption.
func TestMetaVersionUpgrade(t *testing.T) {
	dir := t.TempDir()
	db, err := Config{Path: dir}.Open()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Insert([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, metaFileName)
	version := func() string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		return first
	}
	current := fmt.Sprintf("sled-meta %d", metaVersion)
	if v := version(); v != current {
		t.Fatalf("a new database's META starts %q", v)
	}
	seg := 8 << 20
	for old := 1; old < metaVersion; old++ {
		if err := os.WriteFile(path, encodeMeta(meta{version: old, segmentSizeBytes: seg}), 0o644); err != nil {
			t.Fatal(err)
		}
		ro, err := Config{Path: dir, ReadOnly: true}.Open()
		if err != nil {
			t.Fatal(err)
		}
		if v, err := ro.Get([]byte("k")); err != nil || string(v) != "v" {
			t.Fatalf("read-only Get = %q, %v", v, err)
		}
		ro.Close()
		if v := version(); v != fmt.Sprintf("sled-meta %d", old) {
			t.Fatalf("a read-only open changed META to %q", v)
		}
		db, err = Config{Path: dir}.Open()
		if err != nil {
			t.Fatal(err)
		}
		if v := version(); v != current {
			t.Fatalf("an open for writing left META at %q", v)
		}
		if v, err := db.Get([]byte("k")); err != nil || string(v) != "v" {
			t.Fatalf("Get after the upgrade = %q, %v", v, err)
		}
		db.Close()
	}
	if err := os.WriteFile(path, encodeMeta(meta{version: metaVersion + 1, segmentSizeBytes: seg}), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Config{Path: dir}.Open()
	if err == nil || errors.Is(err, ErrCorruption) || !strings.Contains(err.Error(), "format version") {
		t.Fatalf("a META from a newer sled: %v, want a version error that is not corruption", err)
	}
}

// TestModesShareOneDatabase: a database written in HighThroughput mode
// (flat page images) and then in LowSpace mode (varint images) reads back
// whole in either mode.
func TestModesShareOneDatabase(t *testing.T) {
	dir := t.TempDir()
	want := map[string]string{}
	for round, mode := range []Mode{HighThroughput, LowSpace, HighThroughput} {
		db, err := Config{Path: dir, Mode: mode, CacheCapacityBytes: 256 << 10}.Open()
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got, err := db.Get([]byte(k)); err != nil || string(got) != v {
				t.Fatalf("round %d (%v): %q = %q, %v; want %q", round, mode, k, got, err, v)
			}
		}
		for i := range 3000 {
			k, v := fmt.Sprintf("k%05d", (i*7919+round*13)%5000), fmt.Sprintf("v%d-%d-%s", round, i, strings.Repeat("x", 60))
			if _, err := db.Insert([]byte(k), []byte(v)); err != nil {
				t.Fatal(err)
			}
			want[k] = v
		}
		if err := db.Check(); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
