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
printf '{"type":"funnel","steps":[{"event":"e0"},{"event":"e1"}]}' >"$WORK/funnel.json"
fail=0
# check_cmd KIND EXPECTED [ENV...]: the tunables `cairn KIND --timing` reports
# under the given environment (import: a fresh import of the events; query:
# a funnel over the database the last import made).
check_cmd() {
  local kind=$1 expected=$2 got args
  shift 2
  if [[ $kind == import ]]; then
    rm -rf "$WORK/db"
    args=(import --timing --db "$WORK/db" "$WORK/events.ndjson")
  else
    args=(query --timing --db "$WORK/db" "$WORK/funnel.json")
  fi
  got=$(env -u GLIBC_TUNABLES "$@" "$CAIRN" "${args[@]}" 2>&1 >/dev/null | sed -n 's/^timing: GLIBC_TUNABLES=//p')
  if [[ "$got" == "$expected" ]]; then
    echo "ok: $kind ${*:-(no GLIBC_TUNABLES)} -> '$got'"
  else
    echo "FAIL: $kind ${*:-(no GLIBC_TUNABLES)}: expected '$expected', got '$got'"
    fail=1
  fi
}
check() { check_cmd import "$@"; }
check_query() { check_cmd query "$@"; }
huge_pages_on=1  # transparent huge pages not off in this kernel
if grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null ||
  [[ ! -r /sys/kernel/mm/transparent_hugepage/enabled ]]; then
  huge_pages_on=0
fi
if ((huge_pages_on == 0)); then
  check ""
else
  check "glibc.malloc.hugetlb=1"
  check "glibc.malloc.tcache_count=7:glibc.malloc.hugetlb=1" GLIBC_TUNABLES=glibc.malloc.tcache_count=7
fi
check "" LD_PRELOAD=libm.so.6  # under valgrind or a preloaded profiler: no second start
check_query ""  # a few KB of segments: under the threshold
if ((huge_pages_on == 0)); then
  check_query "" CAIRN_HUGE_QUERY_BYTES=1
else
  check_query "glibc.malloc.hugetlb=1" CAIRN_HUGE_QUERY_BYTES=1
fi
check_query "" CAIRN_HUGE_QUERY_BYTES=1 LD_PRELOAD=libm.so.6
check "glibc.malloc.hugetlb=0" GLIBC_TUNABLES=glibc.malloc.hugetlb=0
check "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0" GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0
exit $fail
