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
package codec

import "errors"

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("codec: corrupt")
