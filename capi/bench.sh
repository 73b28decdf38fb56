#!/usr/bin/env bash
# Boundary cost of the C API and the Python binding: get, insert and a
# one-key transaction (begin, get, insert, commit) through the Go API, the C
# API and Python on the same workload (a temporary database of 1000 keys of
# 16 bytes with 100-byte values, keys formatted before timing, a fixed
# pseudo-random order), ns/op. Each figure is the best of RUNS runs
# (default 5), to see past other load on the machine. OPS operations per
# get/insert figure (Python: a tenth), TX_OPS transactions (default OPS/4).
set -euo pipefail
cd "$(dirname "$0")/.."
build=$PWD/capi/build
runs=${RUNS:-5}
ops=${OPS:-2000000}
txops=${TX_OPS:-$((ops / 4))}
mkdir -p "$build"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
go build -buildmode=c-shared -o "$build/libsled.so" ./capi
gcc -std=c11 -O2 -Icapi capi/bench/bench.c -L"$build" -lsled -Wl,-rpath,"$build" -o "$build/bench"
go test -c -o "$build/capi.test" ./capi

declare -A best
keep() { # keep NAME NS: the minimum per name
	local cur=${best[$1]:-}
	if [ -z "$cur" ] || [ "${2%.*}" -lt "${cur%.*}" ]; then best[$1]=$2; fi
}
for _ in $(seq "$runs"); do
	while read -r lang op ns; do keep "$lang $op" "$ns"; done < <("$build/bench" "$ops" "$txops")
	while read -r name _ ns _; do
		case $name in
		BenchmarkBoundaryGoGet*) keep "go get" "$ns" ;;
		BenchmarkBoundaryGoInsert*) keep "go insert" "$ns" ;;
		BenchmarkBoundaryGoTx*) keep "go tx" "$ns" ;;
		esac
	done < <({
		"$build/capi.test" -test.run '^$' -test.bench 'BoundaryGo(Get|Insert)$' -test.benchtime "${ops}x"
		"$build/capi.test" -test.run '^$' -test.bench 'BoundaryGoTx$' -test.benchtime "${txops}x"
	} | grep '^Benchmark')
	while read -r lang op ns; do keep "$lang $op" "$ns"; done < <(
		SLED_LIB="$build/libsled.so" PYTHONPATH=bindings/python python3 bindings/python/bench.py $((ops / 10)) $((txops / 10)))
done
printf '| op | Go API ns/op | C API ns/op | C - Go | Python ns/op | Python - Go |\n|---|---|---|---|---|---|\n'
for op in get insert tx; do
	g=${best["go $op"]%.*} c=${best["c $op"]%.*} p=${best["python $op"]%.*}
	printf '| %s | %d | %d | %+d | %d | %+d |\n' "$op" "$g" "$c" $((c - g)) "$p" $((p - g))
done
