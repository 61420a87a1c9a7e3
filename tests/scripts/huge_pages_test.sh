#!/usr/bin/env bash
# An import starts cairn again with glibc's malloc on transparent huge pages
# (src/cli/main.cc): `import --timing` prints the GLIBC_TUNABLES it ran with.
# A user's own tunables are kept, with hugetlb added; a user's hugetlb setting
# is left as it is; a kernel with huge pages off, or a process with
# LD_PRELOAD set, gets no second start. A query starts again the same way
# only when the database's segments hold at least CAIRN_HUGE_QUERY_BYTES
# (512 MiB unless set).
# usage: huge_pages_test.sh CAIRN
set -euo pipefail
CAIRN=$1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
awk 'BEGIN { for (i = 0; i < 1000; i++)
  printf "{\"message_id\":\"m%d\",\"user_id\":\"u%d\",\"event\":\"e%d\",\"timestamp\":%d}\n", i, i % 50, i % 5, 1767607200 + i }' \
  >"$WORK/events.ndjson"
fail=0
check() {  # check EXPECTED [ENV...]: the tunables an import reports under the given environment
  local expected=$1 got
  shift
  rm -rf "$WORK/db"
  got=$(env -u GLIBC_TUNABLES "$@" "$CAIRN" import --timing --db "$WORK/db" "$WORK/events.ndjson" 2>&1 >/dev/null |
    sed -n 's/^timing: GLIBC_TUNABLES=//p')
  if [[ "$got" == "$expected" ]]; then
    echo "ok: ${*:-(no GLIBC_TUNABLES)} -> '$got'"
  else
    echo "FAIL: ${*:-(no GLIBC_TUNABLES)}: expected '$expected', got '$got'"
    fail=1
  fi
}
if grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null ||
  [[ ! -r /sys/kernel/mm/transparent_hugepage/enabled ]]; then
  check ""
else
  check "glibc.malloc.hugetlb=1"
  check "glibc.malloc.tcache_count=7:glibc.malloc.hugetlb=1" GLIBC_TUNABLES=glibc.malloc.tcache_count=7
fi
check "" LD_PRELOAD=libm.so.6  # under valgrind or a preloaded profiler: no second start
printf '{"type":"funnel","steps":[{"event":"e0"},{"event":"e1"}]}' >"$WORK/funnel.json"
check_query() {  # check_query EXPECTED [ENV...]: the tunables a query of the imported database reports
  local expected=$1 got
  shift
  got=$(env -u GLIBC_TUNABLES "$@" "$CAIRN" query --timing --db "$WORK/db" "$WORK/funnel.json" 2>&1 >/dev/null |
    sed -n 's/^timing: GLIBC_TUNABLES=//p')
  if [[ "$got" == "$expected" ]]; then
    echo "ok: query ${*:-(defaults)} -> '$got'"
  else
    echo "FAIL: query ${*:-(defaults)}: expected '$expected', got '$got'"
    fail=1
  fi
}
check_query ""  # a few KB of segments: under the threshold
if grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null ||
  [[ ! -r /sys/kernel/mm/transparent_hugepage/enabled ]]; then
  check_query "" CAIRN_HUGE_QUERY_BYTES=1
else
  check_query "glibc.malloc.hugetlb=1" CAIRN_HUGE_QUERY_BYTES=1
fi
check_query "" CAIRN_HUGE_QUERY_BYTES=1 LD_PRELOAD=libm.so.6
check "glibc.malloc.hugetlb=0" GLIBC_TUNABLES=glibc.malloc.hugetlb=0
check "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0" GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0
exit $fail
