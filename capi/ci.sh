#!/usr/bin/env bash
# CI of the C API and the Python binding (called by .ci/run; runs alone too):
# builds libsled.so (c-shared) and libsled.a (c-archive), runs the C test
# under AddressSanitizer + UndefinedBehaviorSanitizer (leak checking on),
# links the c-archive, runs the README examples (checking that the README
# shows exactly those files), the Python unittest suite and the SIGKILL
# durability test. Installs gcc/python3 only when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/capi/build
mkdir -p "$build"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

need=()
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	echo "== installing ${need[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq </dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" </dev/null
fi

echo "== go vet, gofmt, go test ./capi/"
go vet ./capi/
test -z "$(gofmt -l capi)" || { gofmt -l capi; exit 1; }
go test -count=1 ./capi/

echo "== build libsled.so and libsled.a"
go build -buildmode=c-shared -o "$build/libsled.so" ./capi
go build -buildmode=c-archive -o "$build/libsled.a" ./capi

echo "== header: C99 and C++ clean, prototypes agree with the library"
for std in c99 c11; do
	gcc -std=$std -Wall -Wextra -Werror -pedantic -fsyntax-only -Icapi -x c capi/sled.h
done
if command -v g++ >/dev/null; then
	echo '#include "sled.h"
int main() { return SLED_VERSION_OK() ? 0 : 1; }' | g++ -Wall -Werror -Icapi -x c++ - -L"$build" -lsled -Wl,-rpath,"$build" -o "$build/cxx_check"
	"$build/cxx_check"
fi
python3 capi/check_header.py capi/sled.h "$build/libsled.h" "$build/libsled.so"

cflags=(-std=c11 -Wall -Wextra -Werror -g -Icapi)
rpath=(-L"$build" -lsled -Wl,-rpath,"$build")

echo "== C test (ASan + UBSan, leak checking on) against libsled.so"
# Nothing special is needed: the program is linked with the sanitizers, so
# their runtime initializes before the Go runtime (a library constructor),
# and Go chains to ASan's signal handlers for faults outside Go code. Go's
# heap is mmap'd, so LeakSanitizer sees only malloc'd memory: a buffer or
# error message the test forgets to sled_free fails the run.
gcc "${cflags[@]}" -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined capi/test/sled_test.c "${rpath[@]}" -lpthread -o "$build/sled_test"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 GODEBUG=cgocheck=1 "$build/sled_test"

echo "== C test against libsled.a (no sanitizers: one Go runtime, statically linked)"
gcc "${cflags[@]}" -O1 capi/test/sled_test.c "$build/libsled.a" -lpthread -lm -o "$build/sled_test_static"
"$build/sled_test_static"

echo "== README examples (C: shared and static; Python), transactions included"
python3 capi/check_readme.py README.md capi/example/example.c bindings/python/example.py
gcc -std=c99 -Wall -Wextra -Werror -pedantic -Icapi capi/example/example.c "${rpath[@]}" -o "$build/example"
gcc -std=c99 -Icapi capi/example/example.c "$build/libsled.a" -lpthread -lm -o "$build/example_static"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$("$build/example" "$tmp/c.db")
echo "$out"
grep -qx 'apple = red' <<<"$out"
grep -qx 'apricot -> orange' <<<"$out"
grep -qx 'cherries = dark red' <<<"$out"
"$build/example_static" "$tmp/static.db" >/dev/null
out=$(cd "$tmp" && SLED_LIB="$build/libsled.so" PYTHONPATH="$root/bindings/python" python3 "$root/bindings/python/example.py")
echo "$out"
grep -qx "b'ab'" <<<"$out"
grep -qx "b'2' b'bob'" <<<"$out"

echo "== Python unittest suite (with the SIGKILL durability test)"
gcc "${cflags[@]}" -O2 capi/test/crash_child.c "${rpath[@]}" -o "$build/crash_child"
SLED_LIB="$build/libsled.so" SLED_CRASH_CHILD="$build/crash_child" \
	python3 -m unittest discover -s bindings/python -v
echo "capi ci: ok"
