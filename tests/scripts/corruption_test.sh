#!/usr/bin/env bash
# Corruption test through the CLI: flip one byte at a random offset of a
# random file of a database (segment, catalog, manifest) or of a WAL left by
# `import --wal-only`; every cairn command must then fail with the file and
# offset of the bad block; `info --verify` reads every block and must fail,
# `person` must fail the same way or print exactly what the clean database
# prints (when the flipped block is not one it reads). Never wrong data.
# usage: corruption_test.sh CAIRN [TRIES]
set -euo pipefail
CAIRN=$1
TRIES=${2:-40}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RANDOM=7
awk 'BEGIN { for (i = 0; i < 20000; i++)
  printf "{\"message_id\":\"m%d\",\"user_id\":\"u%d\",\"event\":\"e%d\",\"timestamp\":%d,\"properties\":{\"k\":\"v%d\"}}\n",
    i, i % 500, i % 5, 1767607200 + i, i % 11 }' >"$WORK/events.ndjson"
"$CAIRN" import --db "$WORK/clean" "$WORK/events.ndjson" >/dev/null
cp -r "$WORK/clean" "$WORK/walclean"
awk 'BEGIN { for (i = 0; i < 2000; i++)
  printf "{\"message_id\":\"w%d\",\"user_id\":\"w%d\",\"event\":\"late\",\"timestamp\":%d}\n", i, i % 50, 1767707200 + i }' \
  >"$WORK/late.ndjson"
"$CAIRN" import --db "$WORK/walclean" --wal-only "$WORK/late.ndjson" >/dev/null

"$CAIRN" person --db "$WORK/clean" u7 --json >"$WORK/person.clean"
cp -r "$WORK/walclean" "$WORK/walcopy"  # reading applies the WAL: keep walclean as it is
"$CAIRN" person --db "$WORK/walcopy" u7 --json >"$WORK/person.walclean"

flip() {  # flip FILE OFFSET
  local byte
  byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((byte ^ 0x5A)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

for try in $(seq 1 "$TRIES"); do
  rm -rf "$WORK/db"
  if ((try % 4 == 0)); then
    cp -r "$WORK/walclean" "$WORK/db"
    target="$WORK/db/wal.log"
  else
    cp -r "$WORK/clean" "$WORK/db"
    mapfile -t files < <(ls "$WORK/db" | grep -E '^(seg-|catalog-|MANIFEST-)')
    target="$WORK/db/${files[$((RANDOM % ${#files[@]}))]}"
  fi
  size=$(stat -c %s "$target")
  offset=$(( (RANDOM * 32768 + RANDOM) % size ))
  flip "$target" "$offset"
  clean_person=$WORK/person.clean
  ((try % 4 == 0)) && clean_person=$WORK/person.walclean
  for cmd in "info --db $WORK/db --verify --json" "person --db $WORK/db u7 --json"; do
    if "$CAIRN" $cmd >"$WORK/out" 2>"$WORK/err"; then
      if [[ $cmd == person* ]] && cmp -s "$WORK/out" "$clean_person"; then continue; fi
      echo "try $try: '$cmd' succeeded although $(basename "$target") was flipped at offset $offset:"
      head -c 400 "$WORK/out"
      exit 1
    fi
    if ! grep -q "$(basename "$target")" "$WORK/err" || ! grep -q "offset" "$WORK/err"; then
      echo "try $try: error does not name $(basename "$target") and an offset:"
      cat "$WORK/err"
      exit 1
    fi
  done
done
echo "corruption test: $TRIES flipped bytes, each reported with file and offset"
