#!/usr/bin/env bash
# CI for raftstore (the hashicorp/raft LogStore/StableStore on sled), its
# comparison harness raftstore/bench and examples/replicated-kv. Three Go
# modules, each checked the same way; a few minutes on 2 cores.
set -euo pipefail
export CI=true
cd "$(dirname "$0")"
raftstore=$(pwd)
example=$(cd ../examples/replicated-kv && pwd)
bench=$raftstore/bench

step() { echo "== $*"; }

for m in "$raftstore" "$bench" "$example"; do
	step "go.mod/go.sum tidy: $m"
	(cd "$m" && go mod tidy -diff)
	step "gofmt: $m"
	unformatted=$(cd "$m" && gofmt -l .)
	if [ -n "$unformatted" ]; then
		echo "gofmt needed:"; echo "$unformatted"; exit 1
	fi
	step "go vet: $m"
	(cd "$m" && go vet ./...)
done

step "raftstore: tests under -race (crash by SIGKILL, corruption, concurrency, fuzz seed corpus)"
(cd "$raftstore" && go test -race -count=1 ./...)

step "raftstore: hashicorp/raft's bench package (raftbench), 100 iterations each"
(cd "$raftstore" && go test -run '^$' -bench . -benchtime 100x .)

step "examples/replicated-kv: 3 processes, the leader SIGKILLed mid-stream"
(cd "$example" && go test -race -count=1 ./...)

step "raftstore/bench: build, and a short smoke run against raft-boltdb"
(cd "$bench" && go build -o /dev/null . && go run . -duration 200ms -rounds 1 -only storelogs,getlog)

echo "raftstore CI: all steps passed"
