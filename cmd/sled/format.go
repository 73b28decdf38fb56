package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// parseBytes decodes a key or value given on the command line: the
// argument's bytes as they are, or hex digits when isHex.
func parseBytes(what, s string, isHex bool) ([]byte, error) {
	if !isHex {
		return []byte(s), nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, usagef("%s %q is not hex: %v", what, s, err)
	}
	return b, nil
}

// formatBytes renders a key or value for output: hex digits when isHex;
// otherwise the bytes as they are when they are printable UTF-8, and
// Go-quoted ("a\tb", "\x00") when they are not, start with a quote, or are
// empty. Tabs and newlines are never printed bare, so "key<TAB>value" lines
// stay unambiguous.
func formatBytes(b []byte, isHex bool) string {
	if isHex {
		return hex.EncodeToString(b)
	}
	if plain(b) {
		return string(b)
	}
	return strconv.Quote(string(b))
}

func plain(b []byte) bool {
	if len(b) == 0 || b[0] == '"' || !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// byteSize renders n bytes with a binary unit.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
