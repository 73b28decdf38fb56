// Package codec holds every encoding that leaves the process, each with a
// byte diagram, a decoder that never panics on bad input, and a fuzz target.
//
// # Dump (Export / Import), version 1
//
// A dump is a header followed by records and ends with an end record:
//
//	header:  "SLEDDUMP" (8 bytes) | version (uvarint, = 1)
//	record:  kind (1 byte) | body length (uvarint) | body | crc32c(kind|len|body) (4 bytes, little endian)
//	kinds:   'T' tree:  body = name bytes; the entries that follow belong to it
//	         'E' entry: body = uvarint(len(key)) | key | value
//	         'Z' end:   body = uvarint(number of entries in the dump)
//
// Entries must come after a tree record and, within a tree, in strictly
// increasing key order. Anything after the end record is an error, and so is
// a missing end record (a truncated dump).
//
// # Integers and canonical form
//
// Every "uvarint" below is encoding/binary's unsigned varint, and decoders
// accept only its shortest form. Together with the rules listed for each
// format this makes the page record and node encodings canonical: whatever
// decodes re-encodes to exactly the bytes it came from, which the fuzz
// targets check.
//
// # Page records (AppendSections / DecodeSections / FindPage)
//
// The body of a log record that changes one or more pages atomically. The
// log frames and checksums the body; this encoding does not repeat that.
//
//	record:   section count (uvarint) | section × count
//	section:  kind (1 byte) | page (uvarint) | body length (uvarint) | body
//	kinds:    1 image:        page = the page (!= 0); body = 0x80 | the node's
//	                          buffer (flat form: internal/node/layout.go, checked by
//	                          node.FromBytes), or a node in the varint form (below),
//	                          which databases written before the flat form hold
//	                          (its first byte, the flags, never has bit 7 set)
//	          2 delta:        page = the page (!= 0);
//	                          body = delta kind (1 byte: 2 set, 3 delete) |
//	                                 uvarint(len(key)) | key | value (set only: the rest of the body)
//	                              or 4 batch | uvarint(n >= 1) | op × n, keys strictly increasing,
//	                                 op = kind (2 set, 3 delete) | uvarint(len(key)) | key |
//	                                      (set only) uvarint(len(value)) | value
//	          3 free:         page = the freed page (!= 0); body empty
//	          4 tree create:  page = the new tree's root (!= 0); body = name bytes
//	          5 tree drop:    page = 0; body = name bytes
//	          6 id reserve:   page = 0; body = uvarint(high-water: ids below it may be in use)
//
// The count must match the sections present, and nothing may follow the
// last one. Each body is length-prefixed so that FindPage can skip every
// section but the last image, delta or free of the page it looks for.
// Decoded keys, values and bounds alias the record with their capacity
// capped at their length (Caveat: the record buffer must outlive them and
// must not be reused while they are in use).
//
// # Node, varint form (EncodeNode / DecodeNode)
//
// Images were written in this form before the flat one; it is still read.
//
//	node:     flags (1 byte) | level (1 byte) | next (uvarint) |
//	          uvarint(len(lo)) | lo | [uvarint(len(hi)) | hi] |
//	          entry count (uvarint) | entry × count | [mark bitmap]
//	flags:    bit 0 frozen, bit 1 hi present (Hi != nil; absent means +inf),
//	          bit 2 mark bitmap present (index nodes only); other bits zero
//	leaf entry (level 0):   uvarint(len(key)) | key | uvarint(len(value)) | value
//	index entry (level>0):  uvarint(len(key)) | key | kid (uvarint, != 0)
//	mark bitmap:            ceil(count/8) bytes; bit i%8 of byte i/8 is Mark[i];
//	                        at least one bit set, bits past count zero
//
// A decoded node is built with node.NewLeaf / node.NewIndex (so its cached
// size is right) and must pass CheckNode: a leaf has one value per key and no
// kids; an index node has at least one entry and one nonzero kid per key;
// keys are strictly increasing and lie in [Lo, Hi). The entry count must fit
// in the bytes left (two bytes per entry at least) before anything is
// allocated for it. A node without entries decodes with nil Keys and Vals; an
// empty value decodes as a non-nil empty slice.
//
// # Snapshot (WriteSnapshot / ReadSnapshot), version 1
//
// The page table as of a log position, one file, written streaming and read
// at Open. All integers are uvarints except the checksum.
//
//	file:     "SLEDSNAP" (8 bytes) | version (= 2) | lsn | next page | id high |
//	          tree count | tree × count |
//	          page count | page × count |
//	          free count | free × count |
//	          crc32c of all preceding bytes (4 bytes, little endian)
//	tree:     uvarint(len(name)) | name | root page | created lsn
//	page:     page id | location count (1..16) | (location | size) × count
//	          (log positions of the page's last image, then its deltas, in order)
//	free:     page id | lsn of the free
//
// Every page id (pages, free pages, tree roots) is in 1..next page, tree
// names are unique, and nothing may follow the checksum. Each count is
// checked against the bytes left (as bounded by ReadSnapshot's maxBytes)
// before anything is allocated for it, and the checksum catches every
// truncation and bit flip. Duplicate page ids are not checked (that would
// need a set of every id); recovery owns that.
package codec

import "errors"

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("codec: corrupt")
