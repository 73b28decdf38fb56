//go:build unix

package sled_test

// slotsExpected: page-ins use arena slots where anonymous mappings exist.
func slotsExpected() bool { return true }
