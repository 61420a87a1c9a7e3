#!/usr/bin/env bash
# An import starts cairn again with glibc's malloc on transparent huge pages
# (src/cli/main.cc): `import --timing` prints the GLIBC_TUNABLES it ran with.
# A user's own tunables are kept, with hugetlb added; a user's hugetlb setting
# is left as it is; a kernel with huge pages off, or a process with
# LD_PRELOAD set, gets no second start. A query starts again the same way
# only when the database's segments hold at least CAIRN_HUGE_QUERY_BYTES
# (512 MiB unless set). Neither starts again when huge pages do not pay: the
# host takes freed memory back (free page reporting) and a small page's first
# write is quick (CAIRN_FREE_PAGE_REPORTING and CAIRN_SMALL_PAGE_WRITE_NS stand
# in for the machine's readings); `--timing` then names small pages and why.
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
  local kind=$1 expected=$2 args
  shift 2
  if [[ $kind == import ]]; then
    rm -rf "$WORK/db"
    args=(import --timing --db "$WORK/db" "$WORK/events.ndjson")
  else
    args=(query --timing --db "$WORK/db" "$WORK/funnel.json")
  fi
  local timing
  timing=$(env -u GLIBC_TUNABLES "$@" "$CAIRN" "${args[@]}" 2>&1 >/dev/null)
  got=$(sed -n 's/^timing: GLIBC_TUNABLES=//p' <<<"$timing")
  choice=$(sed -n 's/^timing: \([a-z]*\) pages: .*/\1/p' <<<"$timing")
  if [[ "$got" == "$expected" ]]; then
    echo "ok: $kind ${*:-(no GLIBC_TUNABLES)} -> '$got'"
  else
    echo "FAIL: $kind ${*:-(no GLIBC_TUNABLES)}: expected '$expected', got '$got'"
    fail=1
  fi
}
check() { check_cmd import "$@"; }
got="" choice=""  # what the last check read
check_query() { check_cmd query "$@"; }
huge_pages_on=1  # transparent huge pages not off in this kernel
if grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null ||
  [[ ! -r /sys/kernel/mm/transparent_hugepage/enabled ]]; then
  huge_pages_on=0
fi
# The machine's own reading decides; the next checks stand in for it.
no_reporting=CAIRN_FREE_PAGE_REPORTING=0
if ((huge_pages_on == 0)); then
  check "" $no_reporting
else
  check "glibc.malloc.hugetlb=1" $no_reporting
  [[ $choice == huge ]] || { echo "FAIL: no reporting: the choice named '$choice' pages"; fail=1; }
  check "glibc.malloc.tcache_count=7:glibc.malloc.hugetlb=1" $no_reporting GLIBC_TUNABLES=glibc.malloc.tcache_count=7
  # The host takes freed memory back: small pages when their first write is
  # quick (a KVM guest, ~2 us), huge ones when it is slow (a PVM guest, ~15 us).
  check "" CAIRN_FREE_PAGE_REPORTING=1 CAIRN_SMALL_PAGE_WRITE_NS=2000
  [[ $choice == small ]] || { echo "FAIL: quick small pages: the choice named '$choice' pages"; fail=1; }
  check "glibc.malloc.hugetlb=1" CAIRN_FREE_PAGE_REPORTING=1 CAIRN_SMALL_PAGE_WRITE_NS=15000
  [[ $choice == huge ]] || { echo "FAIL: slow small pages: the choice named '$choice' pages"; fail=1; }
  check_query "" CAIRN_HUGE_QUERY_BYTES=1 CAIRN_FREE_PAGE_REPORTING=1 CAIRN_SMALL_PAGE_WRITE_NS=2000
  # This machine's own reading: the tunables agree with the choice it names.
  rm -rf "$WORK/db"
  timing=$(env -u GLIBC_TUNABLES "$CAIRN" import --timing --db "$WORK/db" "$WORK/events.ndjson" 2>&1 >/dev/null)
  got=$(sed -n 's/^timing: GLIBC_TUNABLES=//p' <<<"$timing")
  choice=$(sed -n 's/^timing: \([a-z]*\) pages: .*/\1/p' <<<"$timing")
  if [[ $choice == huge && $got == "glibc.malloc.hugetlb=1" ]] || [[ $choice == small && -z $got ]]; then
    echo "ok: this machine: $choice pages, GLIBC_TUNABLES='$got'"
  else
    echo "FAIL: this machine: choice '$choice' with GLIBC_TUNABLES='$got'"
    fail=1
  fi
fi
check "" LD_PRELOAD=libm.so.6  # under valgrind or a preloaded profiler: no second start
check_query ""  # a few KB of segments: under the threshold
if ((huge_pages_on == 0)); then
  check_query "" CAIRN_HUGE_QUERY_BYTES=1
else
  check_query "glibc.malloc.hugetlb=1" CAIRN_HUGE_QUERY_BYTES=1 $no_reporting
fi
check_query "" CAIRN_HUGE_QUERY_BYTES=1 LD_PRELOAD=libm.so.6
check "glibc.malloc.hugetlb=0" GLIBC_TUNABLES=glibc.malloc.hugetlb=0
check "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0" GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0
exit $fail
