package raftstore

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/sledgo/sled"
)

var encodingCases = []raft.Log{
	{},
	{Index: 1, Data: []byte("data")},
	{Index: math.MaxUint64, Term: math.MaxUint64, Type: raft.LogConfiguration},
	{Index: 5, Term: 2, Type: raft.LogCommand, Data: []byte{}, Extensions: []byte{}},
	{Index: 5, Term: 2, Type: raft.LogBarrier, Data: nil, Extensions: []byte("ext")},
	{Index: 300, Term: 7, Type: 200, Data: bytes.Repeat([]byte{0xab}, 1000), Extensions: []byte{0},
		AppendedAt: time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)},
	{Index: 9, AppendedAt: time.Unix(0, 0).UTC()},
	{Index: 9, AppendedAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
	{Index: 9, AppendedAt: time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC)},
}

func TestEncodingRoundTrip(t *testing.T) {
	for i, want := range encodingCases {
		b := appendLog(nil, &want)
		if len(b) > encodedLen(&want) {
			t.Fatalf("case %d: encoding of %d bytes exceeds the bound %d", i, len(b), encodedLen(&want))
		}
		var got raft.Log
		if err := decodeLog(b, &got); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: got %#v, want %#v", i, got, want)
		}
	}
}

// TestEncodingKeepsInstant: a local time comes back as the same instant.
func TestEncodingKeepsInstant(t *testing.T) {
	loc := time.FixedZone("X", 5*3600)
	at := time.Now().In(loc)
	var got raft.Log
	if err := decodeLog(appendLog(nil, &raft.Log{AppendedAt: at}), &got); err != nil {
		t.Fatal(err)
	}
	if !got.AppendedAt.Equal(at) {
		t.Fatalf("AppendedAt %v, want %v", got.AppendedAt, at)
	}
}

// TestEncodingV1Fixture pins the version-1 bytes: a change here breaks
// every store on disk and needs a new version instead.
func TestEncodingV1Fixture(t *testing.T) {
	l := raft.Log{Index: 300, Term: 2, Type: raft.LogCommand, Data: []byte("hi"), Extensions: []byte{},
		AppendedAt: time.Unix(1, 2)}
	want := []byte{1, 7, 0xac, 0x02, 2, 0, 2, 'h', 'i', 0, 2, 2}
	if got := appendLog(nil, &l); !bytes.Equal(got, want) {
		t.Fatalf("encoding % x, want % x", got, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := appendLog(nil, &encodingCases[5])
	for n := 0; n < len(good); n++ {
		err := decodeLog(good[:n], new(raft.Log))
		if !errors.Is(err, sled.ErrCorruption) || !errors.Is(err, ErrBadEncoding) {
			t.Fatalf("truncated to %d/%d bytes: %v", n, len(good), err)
		}
	}
	if err := decodeLog(append(bytes.Clone(good), 0), new(raft.Log)); !errors.Is(err, ErrBadEncoding) {
		t.Fatalf("trailing byte: %v", err)
	}
	bad := bytes.Clone(good)
	bad[0] = 2
	if err := decodeLog(bad, new(raft.Log)); !errors.Is(err, ErrUnknownVersion) || !errors.Is(err, sled.ErrCorruption) {
		t.Fatalf("version 2: %v", err)
	}
	bad = bytes.Clone(good)
	bad[1] |= 0x80
	if err := decodeLog(bad, new(raft.Log)); !errors.Is(err, ErrBadEncoding) {
		t.Fatalf("unknown flag: %v", err)
	}
	// Nanoseconds out of range: the last byte of a short encoding.
	l := appendLog(nil, &raft.Log{AppendedAt: time.Unix(1, 0)})
	l = append(l[:len(l)-1], 0x80, 0x94, 0xeb, 0xdc, 0x03) // 1e9
	if err := decodeLog(l, new(raft.Log)); !errors.Is(err, ErrBadEncoding) {
		t.Fatalf("nanoseconds 1e9: %v", err)
	}
	// On error the destination is unchanged.
	dst := raft.Log{Index: 42, Data: []byte("keep")}
	if err := decodeLog(good[:5], &dst); err == nil || dst.Index != 42 || string(dst.Data) != "keep" {
		t.Fatalf("failed decode changed the destination: %#v, %v", dst, err)
	}
}

// FuzzDecodeLog: the decoder never panics; whatever it accepts encodes to
// bytes that decode to the same log; every log round-trips.
func FuzzDecodeLog(f *testing.F) {
	for _, c := range encodingCases {
		f.Add(appendLog(nil, &c))
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var l raft.Log
		if err := decodeLog(b, &l); err != nil {
			if !errors.Is(err, sled.ErrCorruption) {
				t.Fatalf("error does not match ErrCorruption: %v", err)
			}
			return
		}
		again := appendLog(nil, &l)
		if len(again) > len(b) {
			t.Fatalf("re-encoding grew: % x -> % x", b, again)
		}
		var l2 raft.Log
		if err := decodeLog(again, &l2); err != nil {
			t.Fatalf("re-encoding of an accepted log fails: %v", err)
		}
		if !reflect.DeepEqual(l, l2) {
			t.Fatalf("round trip: %#v != %#v", l, l2)
		}
	})
}
