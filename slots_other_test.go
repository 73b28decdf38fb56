//go:build !unix

package sled_test

func slotsExpected() bool { return false }
