#!/usr/bin/env bash
# Peer load for the funnel and paths benchmarks: loads the simulator's NDJSON
# into the ClickHouse server that clickhouse.sh started, as table
# cairn_bench.events (person String, ts UInt64, seq UInt32, event String),
# a MergeTree ordered by (person, ts, seq):
#   person  stitched as cairn stitches (and as the DuckDB peers do): the user
#           id, else the user id its anonymous id appeared with, else the
#           anonymous id
#   ts      milliseconds since 1970 (18.16 has no DateTime64)
#   seq     arrival: the event's line number in FILE, from 0; events with
#           equal times keep this order
# The raw rows go through a Log table read by one thread, so rowNumberInAllBlocks()
# numbers them in file order; the table is merged to one part at the end.
# usage: clickhouse_import.sh FILE TCP_PORT
set -euo pipefail
file=$1 port=$2
ch() { clickhouse-client --host 127.0.0.1 --port "$port" "$@"; }
ch -q 'DROP DATABASE IF EXISTS cairn_bench'
ch -q 'CREATE DATABASE cairn_bench'
ch -q 'CREATE TABLE cairn_bench.raw (user_id String, anonymous_id String, event String, timestamp String) ENGINE = Log'
ch --input_format_skip_unknown_fields=1 -q 'INSERT INTO cairn_bench.raw FORMAT JSONEachRow' <"$file"
ch -q 'CREATE TABLE cairn_bench.events (person String, ts UInt64, seq UInt32, event String)
       ENGINE = MergeTree ORDER BY (person, ts, seq)'
# The simulator writes times as 2026-04-25T22:49:45.340Z: whole seconds from
# parseDateTimeBestEffort, milliseconds from characters 21-23.
ch --max_threads=1 -q "
INSERT INTO cairn_bench.events
SELECT if(user_id != '', user_id, if(uid != '', uid, anonymous_id)) AS person,
       toUInt64(parseDateTimeBestEffort(timestamp)) * 1000 + toUInt64(substring(timestamp, 21, 3)) AS ts,
       seq, event
FROM (SELECT rowNumberInAllBlocks() AS seq, user_id, anonymous_id, event, timestamp FROM cairn_bench.raw)
ANY LEFT JOIN (
  SELECT anonymous_id, min(user_id) AS uid FROM cairn_bench.raw
  WHERE user_id != '' AND anonymous_id != '' GROUP BY anonymous_id) USING anonymous_id"
ch -q 'DROP TABLE cairn_bench.raw'
ch -q 'OPTIMIZE TABLE cairn_bench.events FINAL'
ch -q "SELECT concat('clickhouse: ', toString(count()), ' rows, ', toString(uniqExact(person)), ' persons') FROM cairn_bench.events"
