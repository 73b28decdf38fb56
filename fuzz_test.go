package sled_test

import (
	"fmt"
	"testing"

	"github.com/sledgo/sled"
)

// fuzzKey maps a byte to a small key space with shared prefixes, the empty
// key and 0xff bytes.
func fuzzKey(b byte) []byte {
	switch {
	case b == 0:
		return []byte{}
	case b >= 0xf8:
		return []byte{0xff, b & 7}
	}
	return []byte(fmt.Sprintf("%c%02d", 'a'+b%3, b/3%40))
}

// FuzzOps runs operation sequences decoded from the input against a
// database with tiny nodes and a map model. Each operation takes 4 bytes:
// kind, key a, key b, value length (the value is derived from it).
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 3, 0, 2, 0, 4, 2, 1, 0, 0, 10, 0, 5, 1})
	f.Add([]byte{12, 5, 0, 6, 12, 9, 0, 5, 9, 0, 0, 0, 9, 0, 0, 1, 13, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 0, 0, 0xff, 0, 2, 6, 0xff, 0, 0, 7, 0, 0, 0, 11, 0xf9, 0, 1})
	seq := make([]byte, 0, 4*300)
	for i := 0; i < 300; i++ {
		seq = append(seq, byte(i%int(numOps)), byte(i*7), byte(i*13), byte(i))
	}
	f.Add(seq)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4*2000 {
			data = data[:4*2000]
		}
		h := newHarness(t, sled.Config{Temporary: true, NodeMaxEntries: 4})
		for i := 0; i+4 <= len(data); i += 4 {
			n := int(data[i+3])
			val := make([]byte, n%17)
			for j := range val {
				val[j] = byte('a' + (n+j)%26)
			}
			if n%31 == 30 {
				val = []byte("X") // the merge operand that deletes
			}
			h.do(opKind(data[i]%byte(numOps)), fuzzKey(data[i+1]), fuzzKey(data[i+2]), val)
		}
		h.verifyAll()
	})
}
