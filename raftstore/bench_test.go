package raftstore_test

import (
	"testing"

	raftbench "github.com/hashicorp/raft/bench"
)

// The benchmarks of hashicorp/raft's bench package (the ones raft-boltdb
// runs), on a durable store. raftstore/bench compares them with raft-boltdb.

func BenchmarkSledStore_FirstIndex(b *testing.B) {
	s, _ := testStore(b)
	raftbench.FirstIndex(b, s)
}

func BenchmarkSledStore_LastIndex(b *testing.B) {
	s, _ := testStore(b)
	raftbench.LastIndex(b, s)
}

func BenchmarkSledStore_GetLog(b *testing.B) {
	s, _ := testStore(b)
	raftbench.GetLog(b, s)
}

func BenchmarkSledStore_StoreLog(b *testing.B) {
	s, _ := testStore(b)
	raftbench.StoreLog(b, s)
}

func BenchmarkSledStore_StoreLogs(b *testing.B) {
	s, _ := testStore(b)
	raftbench.StoreLogs(b, s)
}

func BenchmarkSledStore_DeleteRange(b *testing.B) {
	s, _ := testStore(b)
	raftbench.DeleteRange(b, s)
}

func BenchmarkSledStore_Set(b *testing.B) {
	s, _ := testStore(b)
	raftbench.Set(b, s)
}

func BenchmarkSledStore_Get(b *testing.B) {
	s, _ := testStore(b)
	raftbench.Get(b, s)
}

func BenchmarkSledStore_SetUint64(b *testing.B) {
	s, _ := testStore(b)
	raftbench.SetUint64(b, s)
}

func BenchmarkSledStore_GetUint64(b *testing.B) {
	s, _ := testStore(b)
	raftbench.GetUint64(b, s)
}
