package log

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/sledgo/sled/vfs"
)

// FuzzRecover fuzzes the recovery scan, the decoder of whole segment and
// blob files. The input is a workload, two bytes per step (records of
// fuzzed kind and size, some out of line as blobs, and batches), written
// through the log with tiny segments and buffers, then damage: a byte of
// one of the log's files XORed and the file cut short. Reopened read-only,
// the log must either fail with ErrCorrupt or replay a prefix of the
// records appended that ends outside every batch; with no damage it must
// replay them all but a batch left open at the end.
func FuzzRecover(f *testing.F) {
	f.Add([]byte{1, 10, 2, 20, 3, 0}, uint16(0), uint32(0), byte(0), uint32(0))
	f.Add([]byte{1, 10, 2, 0xf5, 3, 200, 0xff, 0, 4, 4, 5, 5, 0xfe, 0, 6, 6}, uint16(0), uint32(40), byte(0x10), uint32(0))
	f.Add(bytes.Repeat([]byte{7, 0xef, 9, 0x80}, 100), uint16(2), uint32(5), byte(1), uint32(0))
	f.Add(bytes.Repeat([]byte{7, 0xf9, 9, 0x80, 0xff, 0, 3, 3, 0xfe, 0}, 40), uint16(1), uint32(30), byte(0), uint32(20000))
	f.Add(bytes.Repeat([]byte{0xff, 0, 7, 0x90, 0xfe, 0}, 200), uint16(3), uint32(0), byte(0x80), uint32(1))
	f.Fuzz(func(t *testing.T, work []byte, file uint16, off uint32, xor byte, cut uint32) {
		if len(work) > 2*400 {
			work = work[:2*400]
		}
		mem := vfs.NewMem()
		opts := smallOpts(mem)
		l, err := Open(opts, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		var want []rec
		cuts := map[int]bool{0: true} // record counts at which no batch is open
		complete := 0                 // records before the batch left open, if any
		inBatch := false
		for i := 0; i+2 <= len(work); i += 2 {
			op, size := work[i], work[i+1]
			switch {
			case op == 0xff && !inBatch:
				err = l.BeginBatch()
				inBatch = true
			case op == 0xfe && inBatch:
				err = l.EndBatch()
				inBatch = false
			default:
				kind := Kind(1 + op%byte(MaxUserKind))
				n := int(size) * 8
				if size >= 0xf0 {
					n = 2100 + int(size-0xf0)*700 // out of line: a blob
				}
				body := make([]byte, n)
				for j := range body {
					body[j] = byte(i + j*7)
				}
				var lsn LSN
				lsn, err = l.Append(kind, body)
				want = append(want, rec{lsn, kind, body})
			}
			if err != nil {
				t.Fatal(err)
			}
			if !inBatch {
				cuts[len(want)] = true
				complete = len(want)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}

		names, err := mem.List(opts.Dir)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		damaged := false
		if len(names) > 0 && (xor != 0 || cut != 0) {
			name := opts.Dir + "/" + names[int(file)%len(names)]
			data, err := mem.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if xor != 0 && len(data) > 0 {
				data[int(off)%len(data)] ^= xor
				damaged = true
			}
			if cut != 0 && int(cut) < len(data) {
				data = data[:len(data)-int(cut)]
				damaged = true
			}
			if err := mem.WriteFile(name, data); err != nil {
				t.Fatal(err)
			}
		}

		ro := opts
		ro.ReadOnly = true
		var got []rec
		l, err = Open(ro, 0, func(lsn LSN, kind Kind, body []byte) error {
			got = append(got, rec{lsn, kind, bytes.Clone(body)})
			return nil
		})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || !damaged {
				t.Fatalf("Open (damaged %v): %v", damaged, err)
			}
			return
		}
		defer l.Close()
		checkPrefix(t, got, want, 0)
		if !damaged && len(got) != complete {
			t.Fatalf("undamaged log replayed %d records, want %d (of %d appended)", len(got), complete, len(want))
		}
		if !cuts[len(got)] {
			t.Fatalf("replay of %d records ends inside a batch", len(got))
		}
		// Every replayed record reads back as replayed.
		for _, r := range got {
			kind, body, err := l.Read(r.lsn)
			if err != nil {
				if errors.Is(err, ErrCorrupt) && damaged {
					continue // a damaged blob is found when read
				}
				t.Fatalf("Read(%d): %v", r.lsn, err)
			}
			if kind != r.kind || !bytes.Equal(body, r.body) {
				t.Fatalf("Read(%d) = kind %d, %d bytes; replayed kind %d, %d bytes", r.lsn, kind, len(body), r.kind, len(r.body))
			}
		}
	})
}
