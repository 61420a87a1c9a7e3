#!/usr/bin/env bash
# `make demo`: simulate realistic journeys, import them, and show the reports
# that exist today: the database summary, one person's stitched timeline and
# a funnel.
# usage: demo.sh CAIRN DEMO_DIR PERSONS
set -euo pipefail
CAIRN=$1
DIR=$2
PERSONS=${3:-20000}
mkdir -p "$DIR"
rm -rf "$DIR/db"
echo "== simulate $PERSONS persons"
"$CAIRN" simulate --persons "$PERSONS" --seed 42 --out "$DIR/events.ndjson"
echo "== import events, contacts and campaign costs"
"$CAIRN" import --db "$DIR/db" "$DIR/events.ndjson" --contacts "$DIR/events.ndjson.contacts.csv" \
  --costs "$DIR/events.ndjson.costs.csv"
echo "== importing the same file again adds nothing (message ids are de-duplicated)"
"$CAIRN" import --db "$DIR/db" "$DIR/events.ndjson"
echo "== cairn info"
"$CAIRN" info --db "$DIR/db"
# A customer: someone with a purchase, shown by the anonymous id they began with.
customer=$(grep -m1 '"event":"purchase"' "$DIR/events.ndjson" | sed -E 's/.*"user_id":"([^"]+)".*/\1/')
anon=$(grep -m1 "\"user_id\":\"$customer\",\"anonymous_id\"" "$DIR/events.ndjson" | sed -E 's/.*"anonymous_id":"([^"]+)".*/\1/' || true)
echo "== cairn person ${anon:-$customer} (a customer${anon:+, looked up by the anonymous id they began with})"
"$CAIRN" person --db "$DIR/db" "${anon:-$customer}"
echo "== cairn query: a signup funnel by first-touch channel (docs/QUERY.md)"
cat >"$DIR/funnel.json" <<'JSON'
{"type": "funnel",
 "steps": [{"event": "page_view"}, {"event": "signup"}, {"event": "trial_started"}, {"event": "purchase"}],
 "window": "7d", "entry_point": {"property": "channel"}}
JSON
"$CAIRN" query --db "$DIR/db" "$DIR/funnel.json" --format table
echo "== cairn query: the last three steps before a purchase, pages grouped by section (a Sankey's nodes and links)"
cat >"$DIR/paths.json" <<'JSON'
{"type": "paths", "end": {"event": "purchase"}, "steps": 3, "top": 4,
 "label": {"property": "page_path", "events": ["page_view"]},
 "clean": [{"pattern": "^/(blog|features|product)/.*", "replace": "/\\1/*"}]}
JSON
"$CAIRN" query --db "$DIR/db" "$DIR/paths.json" --format table
echo "== cairn query: after a demo request, which next step converts to a won deal"
cat >"$DIR/branches.json" <<'JSON'
{"type": "branches", "from": {"event": "form_submit", "where": [{"property": "form_id", "op": "eq", "value": "demo_request"}]},
 "goal": {"event": "deal_won"}, "window": "60d",
 "branches": [{"event": "webinar_attended"}, {"event": "sales_call"}, {"name": "email click", "event": "email_click"}],
 "compare": ["webinar_attended", "sales_call"]}
JSON
"$CAIRN" query --db "$DIR/db" "$DIR/branches.json" --format table
echo "== cairn query: which channels earned the revenue, with costs and ROI (docs/ATTRIBUTION.md)"
cat >"$DIR/attribution.json" <<'JSON'
{"type": "attribution", "conversion": {"event": "purchase", "value": "revenue"}, "touchpoint": {"dimension": "channel"},
 "models": ["last", "linear", "markov", "shapley"], "milestones": {"mql": {"event": "mql"}}}
JSON
"$CAIRN" query --db "$DIR/db" "$DIR/attribution.json" --format table
echo "== cairn query: weekly retention of signups (logins), by whether they chatted in their first week"
cat >"$DIR/retention.json" <<'JSON'
{"type": "retention", "range": {"from": "2026-01-05", "to": "2026-03-02"}, "start": {"event": "signup"},
 "return": {"event": "login"}, "period": "week", "periods": 8,
 "breakdown": {"behaviour": {"event": "chat_started"}, "within": "first_period"}}
JSON
"$CAIRN" query --db "$DIR/db" "$DIR/retention.json" --format table
echo "== cairn query: weekly active users and sessions, with click-through rate as a formula"
cat >"$DIR/trend.json" <<'JSON'
{"type": "trend", "range": {"from": "2026-02-02", "to": "2026-03-30"}, "period": "week",
 "series": [{"name": "dau", "measure": "dau"}, {"name": "wau", "measure": "wau"}, {"name": "mau", "measure": "mau"},
            {"name": "stickiness", "measure": "stickiness"}, {"name": "sessions", "measure": "sessions"},
            {"name": "impressions", "event": "ad_impression"}, {"name": "clicks", "event": "ad_click"}],
 "formulas": [{"name": "ctr", "formula": "clicks / impressions"}]}
JSON
"$CAIRN" query --db "$DIR/db" "$DIR/trend.json" --format table
echo "== cairn query: lifecycle stages attract -> capture -> nurture -> convert -> expand, and monthly activity"
echo '{"type": "stages", "preset": "attract_capture_nurture_convert_expand", "activity": {"period": "month"}}' |
  "$CAIRN" query --db "$DIR/db" - --format table
for m in nps retention_rate clv first_response_time; do
  echo "== cairn query: metric $m"
  echo "{\"type\": \"metric\", \"metric\": \"$m\", \"range\": {\"from\": \"2026-03-01\", \"to\": \"2026-06-01\"}}" |
    "$CAIRN" query --db "$DIR/db" - --format table
done
