#!/usr/bin/env bash
# `make test`: builds and runs every test, then the unit tests again under
# AddressSanitizer + UBSan, and a short fuzz run of each parser. Ends with a
# line "TOTAL: N passed, N failed" over every ctest run.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
passed=0
failed=0

count() {  # adds ctest's "N tests failed out of M" line from log $1
  local line
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$1" | tail -1)
  if [[ -z "$line" ]]; then failed=$((failed + 1)); return; fi
  local f t
  f=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  t=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + t - f))
  failed=$((failed + f))
}

stage() {  # stage NAME BUILD_DIR CMAKE_ARGS... (release: scripts/build.sh, no args)
  local name=$1 dir=$2
  shift 2
  echo "== $name: configure and build ($dir)"
  local start=$SECONDS
  if [[ $name == release ]]; then  # as `make build` builds it
    if ! JOBS=$JOBS bash scripts/build.sh "$dir" >"$dir.build.log" 2>&1; then
      tail -n 60 "$dir.build.log"; failed=$((failed + 1)); return 1
    fi
  else
    if ! cmake -S . -B "$dir" "$@" >"$dir.configure.log" 2>&1; then
      cat "$dir.configure.log"; failed=$((failed + 1)); return 1
    fi
    if ! cmake --build "$dir" -j "$JOBS" >"$dir.build.log" 2>&1; then
      tail -n 60 "$dir.build.log"; failed=$((failed + 1)); return 1
    fi
  fi
  echo "== $name: built in $((SECONDS - start)) s; ctest"
  start=$SECONDS
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" --timeout 900) 2>&1 | tee "$dir.ctest.log"
  echo "== $name: ctest took $((SECONDS - start)) s"
  count "$dir.ctest.log"
}

mkdir -p build build-asan
# The release build with profile-guided optimisation, as users build it.
stage release build
# The sanitizer build compiles its .cc files eight to a unit (CMake's unity
# build): 331 s against 522 s. The release build stays one file a unit, as
# users build it: its larger units inline less, the import ran 1.10x as long,
# and the benchmarks time that binary (docs/PERFORMANCE.md, "make test's time").
stage asan+ubsan build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_SANITIZE=ON -DCMAKE_UNITY_BUILD=ON
if [[ -x scripts/fuzz.sh ]] || [[ -f scripts/fuzz.sh ]]; then
  echo "== fuzz: short run of each parser"
  start=$SECONDS
  if FUZZ_SECONDS=${FUZZ_SECONDS:-20} bash scripts/fuzz.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  echo "== fuzz: build and runs took $((SECONDS - start)) s"
fi
echo "TOTAL: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
