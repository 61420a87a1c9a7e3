// Parser tests: every accepted form, every error message, atomicity of a bad
// row, and streaming across chunk boundaries (with and without gzip).
#include <gtest/gtest.h>
#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "ingest/parse.h"
#include "ingest/reader.h"

namespace cairn {
namespace parse_test {

struct Parsed {
  ImportBatch batch;
  ImportErrors errors;
  Status status;
};

std::unique_ptr<Parsed> parse(const std::string& name, const std::string& text, InputKind kind = InputKind::kEvents) {
  auto p = std::make_unique<Parsed>();
  p->status = parse_buffer(name, text, kind, p->batch, p->errors);
  return p;
}

// A property of event i as text: "s:val", "n:1.5", "b:true", or "" if absent.
std::string prop(const ImportBatch& b, size_t i, std::string_view key) {
  const BatchEvent& e = b.events[i];
  for (uint32_t k = e.prop_begin; k < e.prop_begin + e.prop_count; ++k) {
    const BatchProperty& p = b.props[k];
    if (b.keys.get(p.key) != key) continue;
    switch (p.type) {
      case ValueType::kString:
        return "s:" + std::string(b.strings.get(static_cast<uint32_t>(p.bits)));
      case ValueType::kNumber: {
        double d;
        std::memcpy(&d, &p.bits, 8);
        char buf[64];
        std::snprintf(buf, sizeof buf, "n:%g", d);
        return buf;
      }
      case ValueType::kBool:
        return p.bits ? "b:true" : "b:false";
    }
  }
  return "";
}

std::string id_of(const ImportBatch& b, uint32_t id) { return id == kNoId ? "" : std::string(b.ids.get(id)); }

std::vector<std::string> messages(const ImportErrors& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors.all()) out.push_back(e.format());
  return out;
}

TEST(ParseCsv, TypedPropertiesQuotingAndIds) {
  auto p = parse("ev.csv",
                 "message_id,user_id,anonymous_id,timestamp,event,plan,seats,trial,zip,note,revenue\r\n"
                 "m1,,a1,2026-01-05T10:00:00Z,visit,,,,,,\r\n"
                 "m2,u1,a1,2026-01-05T11:00:00+01:00,purchase,pro,12,true,02134,\"a, \"\"quoted\"\"\nnote\",99.5\r\n");
  ASSERT_TRUE(p->status.is_ok());
  ASSERT_EQ(p->errors.count(), 0u) << p->errors.summary();
  const ImportBatch& b = p->batch;
  ASSERT_EQ(b.events.size(), 2u);
  // Without a user id, the event is filed under its anonymous id, which is
  // not known; with both, under the user id, and the pair is linked.
  EXPECT_EQ(id_of(b, b.events[0].person), "a1");
  EXPECT_EQ(b.id_is_known[b.events[0].person], 0);
  EXPECT_EQ(b.events[0].prop_count, 0u);  // empty cells are absent
  EXPECT_EQ(b.events[0].time, 1767607200LL * kMicrosPerSecond);
  EXPECT_EQ(b.events[1].time, 1767607200LL * kMicrosPerSecond);  // 11:00+01:00 == 10:00Z
  EXPECT_EQ(id_of(b, b.events[1].person), "u1");
  EXPECT_EQ(b.id_is_known[b.events[1].person], 1);
  ASSERT_EQ(b.links.size(), 1u);
  EXPECT_EQ(id_of(b, b.links[0].from), "a1");
  EXPECT_EQ(id_of(b, b.links[0].to), "u1");
  EXPECT_EQ(prop(b, 1, "plan"), "s:pro");
  EXPECT_EQ(prop(b, 1, "seats"), "n:12");
  EXPECT_EQ(prop(b, 1, "trial"), "b:true");
  EXPECT_EQ(prop(b, 1, "zip"), "s:02134");  // a leading zero keeps it a string
  EXPECT_EQ(prop(b, 1, "note"), "s:a, \"quoted\"\nnote");
  EXPECT_EQ(prop(b, 1, "revenue"), "n:99.5");
  EXPECT_EQ(b.events[0].message_hash, message_hash("m1"));
  // The event carrying both ids links them.
  ASSERT_EQ(b.links.size(), 1u);
  EXPECT_EQ(id_of(b, b.links[0].from), "a1");
  EXPECT_EQ(id_of(b, b.links[0].to), "u1");
  EXPECT_EQ(b.id_is_known[b.links[0].to], 1);
  EXPECT_EQ(b.id_is_known[b.links[0].from], 0);
}

TEST(ParseCsv, PersonColumnAndUnixTimes) {
  auto p = parse("ev.csv", "person,timestamp,event\nu1,1767607200,a\nu1,1767607200500,b\n");
  ASSERT_EQ(p->errors.count(), 0u) << p->errors.summary();
  ASSERT_EQ(p->batch.events.size(), 2u);
  EXPECT_EQ(p->batch.events[0].time, 1767607200LL * kMicrosPerSecond);
  EXPECT_EQ(p->batch.events[1].time, 1767607200LL * kMicrosPerSecond + 500000);
}

TEST(ParseCsv, EveryBadRowIsReportedWithFileLineAndField) {
  auto p = parse("bad.csv",
                 "user_id,timestamp,event,revenue\n"
                 "u1,2026-13-40,x,\n"
                 "u2,2026-01-01,,\n"
                 ",2026-01-01,y,\n"
                 "u4,2026-01-01,z,abc\n"
                 "u5,2026-01-01,z\n"
                 "u6,2026-01-01,ok,1\n"
                 "u7,2026-01-01,z,\"open\n");
  ASSERT_TRUE(p->status.is_ok());
  EXPECT_EQ(messages(p->errors),
            (std::vector<std::string>{
                "bad.csv:2: field 'timestamp': cannot parse \"2026-13-40\" as a time",
                "bad.csv:3: field 'event': is missing",
                "bad.csv:4: field 'user_id': is missing",
                "bad.csv:5: field 'revenue': cannot parse \"abc\" as a number",
                "bad.csv:6: has 3 fields, the header has 4",
                "bad.csv:8: field 4 has an opening quote without a closing one",
            }));
  // Only the good row is in the batch, and no id of a bad row was interned.
  ASSERT_EQ(p->batch.events.size(), 1u);
  EXPECT_EQ(p->batch.ids.size(), 1u);
  EXPECT_EQ(id_of(p->batch, p->batch.events[0].person), "u6");
  EXPECT_EQ(p->batch.event_names.size(), 1u);
}

TEST(ParseCsv, HeaderErrors) {
  EXPECT_EQ(messages(parse("h.csv", "timestamp,event\n1,a\n")->errors),
            std::vector<std::string>{
                "h.csv:1: header: a person column is missing (need user_id, person or anonymous_id)"});
  EXPECT_EQ(messages(parse("h.csv", "user_id,event\n")->errors),
            std::vector<std::string>{"h.csv:1: header: column 'timestamp' is missing"});
  EXPECT_EQ(messages(parse("h.csv", "user_id,timestamp,event,a,a\n")->errors),
            std::vector<std::string>{"h.csv:1: header: column 'a' appears twice"});
  EXPECT_EQ(messages(parse("h.csv", "")->errors),
            std::vector<std::string>{"h.csv:1: the file is empty (no header row)"});
}

// The records a CSV reader cuts text into, as "LINE:TEXT", then "end LINE"
// (the reader's line() once all is read).
std::vector<std::string> csv_records(std::string_view text) {
  auto source = ByteSource::from_memory(text, false);
  RecordReader reader(*source, /*csv_quotes=*/true);
  std::vector<std::string> out;
  Record rec;
  for (;;) {
    auto more = reader.next(rec);
    if (!more.is_ok()) return {more.status().message()};
    if (!*more) break;
    out.push_back(std::to_string(rec.line) + ":" + (rec.too_long ? "(too long)" : std::string(rec.text)));
  }
  out.push_back("end " + std::to_string(reader.line()));
  return out;
}

// A quote opens a quoted section only where a cell starts (a record's start
// or right after a comma); inside a quoted section "" is a quote; after the
// closing quote the rest of the cell is plain text; anywhere else a quote is
// a character. Only a newline outside a quoted section ends a record.
TEST(ReadRecords, AQuoteOpensAQuotedSectionOnlyWhereACellStarts) {
  EXPECT_EQ(csv_records("h1,h2\n"
                        "5\" screen,x\n"
                        "a,\"q\nq\"\n"
                        "x\"\"y,\"a\"\"b\"\n"
                        "\"ab\"c\"d,e\n"
                        " \"sp\",1\n"
                        "\"\"\"\",\"\"\n"
                        "\"a\n\"\"\n\",z\"\n"
                        "\"a\"\"\"\r\n"
                        "last\""),
            (std::vector<std::string>{"1:h1,h2", "2:5\" screen,x", "3:a,\"q\nq\"", "5:x\"\"y,\"a\"\"b\"",
                                      "6:\"ab\"c\"d,e", "7: \"sp\",1", "8:\"\"\"\",\"\"", "9:\"a\n\"\"\n\",z\"",
                                      "12:\"a\"\"\"", "13:last\"", "end 14"}));
  // The same wherever the first read (64 KiB) ends: after a header of each
  // length up to the longest record's, it ends at each place of a record.
  const std::vector<std::string> kinds = {"5\" x,\"a\n\"\"b\",c\"", "\"\"\",\"\"d\"x\"", "\"\",\"\"\"\""};
  for (size_t shift = 0; shift < 60; ++shift) {
    std::string text = std::string(shift + 1, 'h') + "\n";
    std::vector<std::string> want = {"1:" + text.substr(0, shift + 1)};
    for (size_t i = 0; text.size() < (70u << 10); ++i) {
      const std::string rec = std::string(i % 11, 'p') + kinds[i % kinds.size()];
      want.push_back(std::to_string(std::count(text.begin(), text.end(), '\n') + 1) + ":" + rec);
      text += rec + "\n";
    }
    want.push_back("end " + std::to_string(std::count(text.begin(), text.end(), '\n') + 1));
    ASSERT_EQ(csv_records(text), want) << "header of " << shift + 1 << " bytes";
  }
}

// The cell splitter follows the same rule, so a quote inside a plain cell
// keeps the records after it apart, and line numbers stay right.
TEST(ParseCsv, AQuoteInsideAPlainCellIsACharacter) {
  auto p = parse("q.csv",
                 "user_id,timestamp,event,size\n"
                 "u,2026-01-05T10:00:00Z,a,5\" screen\n"
                 "u,2026-01-05T10:00:01Z,b,1\n"
                 "u,2026-01-05T10:00:02Z,c,x\"\"y\n"
                 "u,2026-01-05T10:00:03Z,d, \"sp\"\n"
                 "u,2026-01-05T10:00:04Z,e,\"ab\"c\"d\n"
                 "u,2026-01-05T10:00:05Z,f,\"two\nlines\"\n"
                 "u,bad,g,\n");
  ASSERT_TRUE(p->status.is_ok());
  EXPECT_EQ(messages(p->errors), (std::vector<std::string>{
                                     "q.csv:6: field 4 has text after its closing quote",
                                     "q.csv:9: field 'timestamp': cannot parse \"bad\" as a time",
                                 }));
  const ImportBatch& b = p->batch;
  ASSERT_EQ(b.events.size(), 5u);
  EXPECT_EQ(prop(b, 0, "size"), "s:5\" screen");
  EXPECT_EQ(prop(b, 1, "size"), "n:1");
  EXPECT_EQ(prop(b, 2, "size"), "s:x\"\"y");
  EXPECT_EQ(prop(b, 3, "size"), "s: \"sp\"");
  EXPECT_EQ(prop(b, 4, "size"), "s:two\nlines");
}

TEST(ParseCsv, ContactsAndCosts) {
  auto c = parse("c.csv", "user_id,email,employees\nu1,a@b.c,40\n,x@y.z,1\n", InputKind::kContacts);
  EXPECT_EQ(messages(c->errors), std::vector<std::string>{"c.csv:3: field 'user_id': is missing"});
  ASSERT_EQ(c->batch.traits.size(), 2u);
  EXPECT_EQ(c->batch.keys.get(c->batch.traits[0].key), "email");
  EXPECT_EQ(c->batch.traits[1].value.type, ValueType::kNumber);

  auto k = parse("k.csv", "date,channel,campaign,cost\n2026-01-02,paid_search,brand,12.5\n2026-01-02,email,,x\n",
                 InputKind::kCosts);
  EXPECT_EQ(messages(k->errors), std::vector<std::string>{"k.csv:3: field 'cost': cannot parse \"x\" as a number"});
  ASSERT_EQ(k->batch.costs.size(), 1u);
  EXPECT_EQ(k->batch.costs[0].day, days_from_civil(2026, 1, 2));
  EXPECT_EQ(k->batch.costs[0].cost, 12.5);
  EXPECT_EQ(k->batch.strings.get(k->batch.costs[0].campaign), "brand");
}

TEST(ParseNdjson, FlatForm) {
  auto p = parse("e.ndjson",
                 R"({"message_id":"m1","user_id":"u1","anonymous_id":"a1","event":"purchase","timestamp":"2026-01-05T10:00:00Z","properties":{"plan":"pro","seats":3,"ok":false,"addr":{"city":"Oslo"},"tags":["a",1],"nothing":null},"revenue":"19.90"})"
                 "\n\n"
                 R"({"userId":"u2","event":"visit","timestamp":1767607200000})"
                 "\n");
  ASSERT_EQ(p->errors.count(), 0u) << p->errors.summary();
  const ImportBatch& b = p->batch;
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(prop(b, 0, "plan"), "s:pro");
  EXPECT_EQ(prop(b, 0, "seats"), "n:3");
  EXPECT_EQ(prop(b, 0, "ok"), "b:false");
  EXPECT_EQ(prop(b, 0, "addr.city"), "s:Oslo");
  EXPECT_EQ(prop(b, 0, "tags"), "s:[\"a\",1]");
  EXPECT_EQ(prop(b, 0, "nothing"), "");
  EXPECT_EQ(prop(b, 0, "revenue"), "n:19.9");
  EXPECT_EQ(b.events[0].prop_count, 6u);
  EXPECT_EQ(b.links.size(), 1u);
  EXPECT_EQ(id_of(b, b.events[1].person), "u2");
  EXPECT_EQ(b.events[1].time, 1767607200LL * kMicrosPerSecond);
}

TEST(ParseNdjson, SegmentSpec) {
  auto p = parse("s.jsonl",
                 R"({"type":"track","anonymousId":"a1","event":"ad_click","messageId":"x1","timestamp":"2026-01-05T10:00:00Z","properties":{"utm_source":"explicit"},"context":{"campaign":{"source":"google","medium":"cpc","name":"spring"}}})"
                 "\n"
                 R"({"type":"identify","anonymousId":"a1","userId":"u1","traits":{"email":"e@x.io","plan":"pro"}})"
                 "\n"
                 R"({"batch":[{"type":"page","userId":"u1","name":"Pricing","context":{"page":{"path":"/pricing"}}},{"type":"alias","previousId":"u0","userId":"u1"},{"type":"screen","userId":"u1","name":"Home","originalTimestamp":"2026-01-06T00:00:00Z"}],"sentAt":"2026-01-05T12:00:00Z"})"
                 "\n"
                 R"({"type":"group","userId":"u1","groupId":"g1","traits":{"name":"Acme"}})"
                 "\n");
  ASSERT_EQ(p->errors.count(), 0u) << p->errors.summary();
  const ImportBatch& b = p->batch;
  ASSERT_EQ(b.events.size(), 3u);
  EXPECT_EQ(b.event_names.get(b.events[0].event), "ad_click");
  EXPECT_EQ(prop(b, 0, "utm_source"), "s:explicit");  // explicit properties win over context
  EXPECT_EQ(prop(b, 0, "utm_medium"), "s:cpc");
  EXPECT_EQ(prop(b, 0, "utm_campaign"), "s:spring");
  EXPECT_EQ(b.event_names.get(b.events[1].event), "page_view");
  EXPECT_EQ(prop(b, 1, "page_name"), "s:Pricing");
  EXPECT_EQ(prop(b, 1, "page_path"), "s:/pricing");
  EXPECT_EQ(b.events[1].time, parse_time("2026-01-05T12:00:00Z"));  // the envelope's sentAt
  EXPECT_EQ(b.event_names.get(b.events[2].event), "screen_view");
  EXPECT_EQ(b.events[2].time, parse_time("2026-01-06"));
  // identify links a1 -> u1; alias links u0 -> u1.
  ASSERT_EQ(b.links.size(), 2u);
  EXPECT_EQ(id_of(b, b.links[0].from), "a1");
  EXPECT_EQ(id_of(b, b.links[1].from), "u0");
  EXPECT_EQ(id_of(b, b.links[1].to), "u1");
  ASSERT_EQ(b.traits.size(), 4u);
  EXPECT_EQ(b.keys.get(b.traits[2].key), "group_id");
  EXPECT_EQ(b.keys.get(b.traits[3].key), "group_name");
}

TEST(ParseNdjson, Errors) {
  auto p = parse("e.ndjson",
                 "{\"user_id\":\"u\",\"event\":\"x\",\"timestamp\":\"2026-02-30\"}\n"
                 "{not json\n"
                 "[1,2]\n"
                 "{\"user_id\":\"u\",\"timestamp\":\"2026-01-01\"}\n"
                 "{\"event\":\"x\",\"timestamp\":\"2026-01-01\"}\n"
                 "{\"user_id\":\"u\",\"event\":\"x\",\"timestamp\":true}\n"
                 "{\"user_id\":\"u\",\"event\":\"x\",\"timestamp\":\"2026-01-01\",\"revenue\":\"abc\"}\n"
                 "{\"user_id\":\"u\",\"event\":\"x\",\"timestamp\":\"2026-01-01\",\"properties\":[1]}\n"
                 "{\"type\":\"alias\",\"userId\":\"u\"}\n"
                 "{\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\",\"timestamp\":\"2026-01-01\"},"
                 "{\"type\":\"nope\"}]}\n");
  ASSERT_TRUE(p->status.is_ok());
  const auto m = messages(p->errors);
  ASSERT_EQ(m.size(), 10u) << p->errors.summary();
  EXPECT_EQ(m[0], "e.ndjson:1: field 'timestamp': cannot parse \"2026-02-30\" as a time");
  EXPECT_EQ(m[1].rfind("e.ndjson:2: invalid JSON: ", 0), 0u) << m[1];
  EXPECT_EQ(m[2], "e.ndjson:3: invalid JSON: expected an object");
  EXPECT_EQ(m[3], "e.ndjson:4: field 'event': is missing");
  EXPECT_EQ(m[4], "e.ndjson:5: field 'user_id': is missing (an event needs user_id or anonymous_id)");
  EXPECT_EQ(m[5], "e.ndjson:6: field 'timestamp': cannot parse \"true\" as a time");
  EXPECT_EQ(m[6], "e.ndjson:7: field 'revenue': cannot parse \"abc\" as a number");
  EXPECT_EQ(m[7], "e.ndjson:8: field 'properties': expected an object");
  EXPECT_EQ(m[8], "e.ndjson:9: field 'previousId': is missing");
  EXPECT_EQ(m[9],
            "e.ndjson:10: field 'batch[1].type': unknown message type \"nope\" (expected track, page, screen, "
            "identify, alias or group)");
  // The good item of the last batch is kept; nothing of the bad rows is.
  ASSERT_EQ(p->batch.events.size(), 1u);
  EXPECT_EQ(p->batch.ids.size(), 1u);
}

std::string gzip(const std::string& text) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Many rows crossing the reader's 1 MiB chunks, a CSV cell with newlines
// among them; plain and gzip (two concatenated members) must agree.
// NUL characters mark erased dictionary entries, so no input may carry one.
// An event's property keys are unique, the first one given winning:
// repeated JSON keys, a nested object's flattened key against a dotted one,
// explicit properties against those taken from the Segment context and
// page name; and properties.revenue must be a number (or a string of one).
TEST(ParseNdjson, FirstPropertyOfAKeyWins) {
  auto p = parse("k.ndjson",
                 R"({"user_id":"u","event":"e","timestamp":1767607200,"properties":{"plan":"a","plan":"b","x":{"y":1},"x.y":2}})"
                 "\n"
                 R"({"type":"page","userId":"u","name":"Home","timestamp":"2026-01-05T10:00:00Z","properties":{"page_name":"Mine","utm_source":"own"},"context":{"campaign":{"source":"ctx","medium":"cpc"}}})"
                 "\n"
                 R"({"user_id":"u","event":"buy","timestamp":1767607200,"properties":{"revenue":"12.5"}})"
                 "\n"
                 R"({"user_id":"u","event":"buy","timestamp":1767607200,"properties":{"revenue":"abc"}})"
                 "\n");
  EXPECT_EQ(messages(p->errors),
            std::vector<std::string>{"k.ndjson:4: field 'properties.revenue': cannot parse \"abc\" as a number"});
  ASSERT_EQ(p->batch.events.size(), 3u);
  EXPECT_EQ(p->batch.events[0].prop_count, 2u);
  EXPECT_EQ(prop(p->batch, 0, "plan"), "s:a");
  EXPECT_EQ(prop(p->batch, 0, "x.y"), "n:1");
  EXPECT_EQ(p->batch.events[1].prop_count, 3u);
  EXPECT_EQ(prop(p->batch, 1, "page_name"), "s:Mine");
  EXPECT_EQ(prop(p->batch, 1, "utm_source"), "s:own");
  EXPECT_EQ(prop(p->batch, 1, "utm_medium"), "s:cpc");
  EXPECT_EQ(prop(p->batch, 2, "revenue"), "n:12.5");
}

TEST(ParseNdjson, NulCharactersAreRejected) {
  auto p = parse("n.ndjson",
                 "{\"user_id\":\"u\\u0000x\",\"event\":\"e\",\"timestamp\":1}\n"
                 "{\"user_id\":\"u\",\"event\":\"e\",\"timestamp\":1767607200,\"properties\":{\"k\":\"a\\\\u0000\"}}\n");
  EXPECT_EQ(messages(p->errors),
            std::vector<std::string>{"n.ndjson:1: contains a NUL character (\\u0000), which cairn does not store"});
  ASSERT_EQ(p->batch.events.size(), 1u);  // an escaped backslash before u0000 is no NUL
  EXPECT_EQ(prop(p->batch, 0, "k"), "s:a\\u0000");
  auto c = parse("n.csv", std::string("user_id,timestamp,event\nu\0x,1,e\nu,1,e\n", 38));
  EXPECT_EQ(messages(c->errors), std::vector<std::string>{"n.csv:2: contains a NUL byte, which cairn does not store"});
  EXPECT_EQ(c->batch.events.size(), 1u);
}

TEST(ParseStreaming, ChunkBoundariesAndGzip) {
  std::string csv = "user_id,timestamp,event,note\n";
  std::string nd;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    csv += "u" + std::to_string(i % 97) + "," + std::to_string(1767607200 + i) + ",e" + std::to_string(i % 5) +
           ",\"line one\nline, two " + std::string(static_cast<size_t>(i % 50), 'x') + "\"\n";
    nd += R"({"user_id":"u)" + std::to_string(i % 97) + R"(","event":"e","timestamp":)" +
          std::to_string(1767607200 + i) + R"(,"properties":{"pad":")" + std::string(static_cast<size_t>(i % 90), 'y') +
          "\"}}\n";
  }
  auto a = parse("big.csv", csv);
  ASSERT_EQ(a->errors.count(), 0u) << a->errors.summary();
  ASSERT_EQ(a->batch.events.size(), static_cast<size_t>(n));
  EXPECT_EQ(prop(a->batch, n - 1, "note"), "s:line one\nline, two " + std::string((n - 1) % 50, 'x'));
  const size_t half = csv.find("\nu", csv.size() / 2) + 1;
  auto g = parse("big.csv.gz", gzip(csv.substr(0, half)) + gzip(csv.substr(half)));
  ASSERT_TRUE(g->status.is_ok()) << g->status.message();
  ASSERT_EQ(g->batch.events.size(), static_cast<size_t>(n));
  EXPECT_EQ(g->batch.events[n - 1].time, a->batch.events[n - 1].time);

  auto j = parse("big.ndjson.gz", gzip(nd));
  ASSERT_EQ(j->errors.count(), 0u) << j->errors.summary();
  ASSERT_EQ(j->batch.events.size(), static_cast<size_t>(n));
  EXPECT_EQ(prop(j->batch, n - 1, "pad"), "s:" + std::string((n - 1) % 90, 'y'));

  // Line numbers count the newlines inside quoted cells.
  auto e = parse("e.csv", "user_id,timestamp,event,note\nu,1,a,\"x\ny\"\nu,bad,a,z\n");
  EXPECT_EQ(messages(e->errors), std::vector<std::string>{"e.csv:4: field 'timestamp': cannot parse \"bad\" as a time"});
}

TEST(ParseStreaming, BadGzipIsAnError) {
  auto p = parse("x.ndjson.gz", "this is not gzip");
  EXPECT_FALSE(p->status.is_ok());
  EXPECT_NE(p->status.message().find("bad gzip stream"), std::string::npos);
  auto t = parse("x.ndjson.gz", gzip("{\"user_id\":\"u\",\"event\":\"e\",\"timestamp\":1}\n").substr(0, 20));
  EXPECT_FALSE(t->status.is_ok());
  // A member whose data does not match its checksum; bytes after the last
  // member that are not one; a second member cut short.
  const std::string line = "{\"user_id\":\"u\",\"event\":\"e\",\"timestamp\":1}\n";
  std::string bad_crc = gzip(line);
  bad_crc[bad_crc.size() - 8] ^= 1;
  for (const std::string& bytes : {bad_crc, gzip(line) + "garbage", gzip(line) + gzip(line).substr(0, 15)}) {
    auto b = parse("x.ndjson.gz", bytes);
    EXPECT_FALSE(b->status.is_ok());
    EXPECT_NE(b->status.message().find("bad gzip stream"), std::string::npos) << b->status.message();
  }
}

TEST(ParseStreaming, OverlongLineIsReportedAndSkipped) {
  std::string text = "{\"user_id\":\"u\",\"event\":\"e\",\"timestamp\":1767607200}\n";
  text += std::string(RecordReader::kMaxRecord + 100, 'z') + "\n";
  text += "{\"user_id\":\"u\",\"event\":\"f\",\"timestamp\":1767607200}\n";
  // An NDJSON line ends at its newline whatever its quotes.
  text += "{\"user_id\":\"u\",\"p\":\"" + std::string(RecordReader::kMaxRecord + 100, 'z') + "\n";
  text += "{\"user_id\":\"u\",\"event\":\"g\",\"timestamp\":1767607200}\n[1,2]\n";
  auto p = parse("long.ndjson", text);
  EXPECT_EQ(messages(p->errors), (std::vector<std::string>{"long.ndjson:2: line is longer than 16 MiB",
                                                           "long.ndjson:4: line is longer than 16 MiB",
                                                           "long.ndjson:6: invalid JSON: expected an object"}));
  EXPECT_EQ(p->batch.events.size(), 3u);
}

// An over-long CSV record is skipped to its real end: a newline inside its
// quoted cells does not end it, a quote inside a plain cell opens nothing.
TEST(ParseStreaming, OverlongCsvRecordIsSkippedToItsEnd) {
  // A quoted cell longer than the reader holds when it gives up on a record
  // (about twice kMaxRecord), a newline every MiB: however the reads fall,
  // the skip starts before some newline inside the quotes.
  std::string cell = "\"";
  for (int i = 0; i < 40; ++i) cell += std::string(1u << 20, 'x') + "\n";
  std::string text = "user_id,timestamp,event,note\nu,2026-01-05T10:00:00Z,a,ok\n";
  text += "u,2026-01-05T10:00:01Z,b," + cell + "zz\"\"\"\n";  // lines 3-43
  text += "u,2026-01-05T10:00:02Z,c,ok\nu,2026-01-05T10:00:03Z,d,5\" " + std::string(RecordReader::kMaxRecord + 100, 'x') + "\n";
  text += "u,2026-01-05T10:00:04Z,e,ok\nu,bad,f,ok\n";  // 46, 47
  auto p = parse("long.csv", text);
  EXPECT_EQ(messages(p->errors), (std::vector<std::string>{
                                     "long.csv:3: record is longer than 16 MiB",
                                     "long.csv:45: record is longer than 16 MiB",
                                     "long.csv:47: field 'timestamp': cannot parse \"bad\" as a time",
                                 }));
  ASSERT_EQ(p->batch.events.size(), 3u);
  EXPECT_EQ(p->batch.event_names.get(p->batch.events[1].event), "c");
  EXPECT_EQ(p->batch.event_names.get(p->batch.events[2].event), "e");
  // The reader's lines go on past a skipped record, up to the end, also when
  // the skipped record runs to the end of the input.
  EXPECT_EQ(csv_records("h\n" + cell + "\"\"\",1\nx\n"), (std::vector<std::string>{"1:h", "2:(too long)", "43:x", "end 44"}));
  EXPECT_EQ(csv_records("h\n" + cell), (std::vector<std::string>{"1:h", "2:(too long)", "end 43"}));
}

}  // namespace parse_test
}  // namespace cairn

namespace cairn {
namespace parse_test {

// A canonical text form of a batch, ids resolved, for comparing two parses.
std::string dump(const ImportBatch& b) {
  std::string out;
  for (size_t i = 0; i < b.events.size(); ++i) {
    const BatchEvent& e = b.events[i];
    out += id_of(b, e.person) + "|" + std::string(b.event_names.get(e.event)) + "|" +
           std::to_string(e.time) + "|" + std::to_string(e.message_hash);
    for (uint32_t k = e.prop_begin; k < e.prop_begin + e.prop_count; ++k)
      out += "|" + std::string(b.keys.get(b.props[k].key)) + "=" + prop(b, i, b.keys.get(b.props[k].key));
    out += "\n";
  }
  for (const BatchLink& l : b.links) out += "link " + id_of(b, l.from) + ">" + id_of(b, l.to) + "\n";
  for (const BatchTrait& t : b.traits) out += "trait " + id_of(b, t.id) + " " + std::string(b.keys.get(t.key)) + "\n";
  for (uint32_t i = 0; i < b.ids.size(); ++i) out += "known " + std::string(b.ids.get(i)) + "=" + std::to_string(b.id_is_known[i]) + "\n";
  return out;
}

// Files of sizes around page and chunk boundaries, with or without a last
// newline, give what the same bytes parsed from memory give; split into parts
// too (a later CSV part reads the header before its own bytes).
TEST(ParseFiles, FilesGiveWhatTheirBytesGive) {
  const auto dir = std::filesystem::temp_directory_path() / ("cairn-files-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  for (bool csv : {false, true}) {
    for (size_t size : {page - 1, page, page + 1, 3 * page, 5 * page - 1}) {
      for (bool last_newline : {true, false}) {
        // Rows up to `size` bytes in all, the last one padded to end exactly there.
        std::string text = csv ? "user_id,timestamp,event,note\n" : "";
        for (int i = 0;; ++i) {
          const std::string row = csv ? "u" + std::to_string(i % 7) + "," + std::to_string(1767607200 + i) + ",e,\"n\n" +
                                            std::to_string(i) + "\"\n"
                                      : R"({"user_id":"u)" + std::to_string(i % 7) + R"(","event":"e","timestamp":)" +
                                            std::to_string(1767607200 + i) + "}\n";
          if (text.size() + row.size() + 80 > size) break;
          text += row;
        }
        std::string last = csv ? "u9,1767607200,last," : R"({"user_id":"u9","event":"last","timestamp":1767607200,"p":")";
        const size_t tail = csv ? 0 : 2;  // "\"}"
        last += std::string(size - text.size() - last.size() - tail - (last_newline ? 1 : 0), 'x');
        if (!csv) last += "\"}";
        text += last + (last_newline ? "\n" : "");
        ASSERT_EQ(text.size(), size);
        const std::string name = csv ? "m.csv" : "m.ndjson";
        const std::string path = (dir / name).string();
        std::ofstream(path, std::ios::binary) << text;
        SCOPED_TRACE(name + " of " + std::to_string(size) + " bytes" + (last_newline ? "" : ", no last newline"));
        auto want = parse(path, text);
        ASSERT_TRUE(want->status.is_ok());
        ASSERT_EQ(want->errors.count(), 0u) << want->errors.summary();
        ImportBatch from_file;
        ImportErrors file_errors;
        ASSERT_TRUE(parse_file(path, InputKind::kEvents, from_file, file_errors).is_ok());
        EXPECT_EQ(dump(from_file), dump(want->batch));
        EXPECT_EQ(file_errors.count(), 0u);
        for (unsigned threads : {2u, 3u}) {
          ImportBatch parts;
          ImportErrors parts_errors;
          ASSERT_TRUE(parse_files({{path, InputKind::kEvents}}, threads, parts, parts_errors, {}, 1).is_ok());
          EXPECT_EQ(dump(parts), dump(want->batch)) << threads << " threads";
          EXPECT_EQ(parts_errors.count(), 0u);
        }
      }
    }
  }
  std::filesystem::remove_all(dir);
}

// A file cut short while it is read (another process truncating it) is an
// error that says so, not a shorter input quietly imported, and not the
// SIGBUS a mapped file's pages past the new end would raise. Bytes appended
// while a file is read are not read: the input is the file as it was opened.
TEST(ParseFiles, FileChangedWhileReadIsAnErrorOrIgnored) {
  const auto path = std::filesystem::temp_directory_path() / ("cairn-truncated-" + std::to_string(::getpid()) + ".ndjson");
  std::string text;
  for (int i = 0; i < 60000; ++i)
    text += R"({"user_id":"u)" + std::to_string(i % 101) + R"(","event":"e","timestamp":)" +
            std::to_string(1767607200 + i) + "}\n";
  ASSERT_GT(text.size(), 3u << 20);
  // Truncated to a line boundary: every record left would parse.
  const size_t cut = text.find('\n', 4096) + 1;
  for (const bool shrink : {true, false}) {
    SCOPED_TRACE(shrink ? "truncated" : "appended to");
    std::ofstream(path, std::ios::binary) << text;
    auto source = ByteSource::open_file(path.string());
    ASSERT_TRUE(source.is_ok());
    RecordReader reader(**source, /*csv_quotes=*/false);
    Record rec;
    ASSERT_TRUE(*reader.next(rec));
    EXPECT_EQ(rec.line, 1u);
    if (shrink) {
      ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(cut)), 0);
    } else {
      std::ofstream(path, std::ios::binary | std::ios::app) << text;
    }
    uint64_t records = 1;
    Status error;
    for (;;) {
      auto more = reader.next(rec);
      if (!more.is_ok()) {
        error = more.status();
        break;
      }
      if (!*more) break;
      ++records;
    }
    if (shrink) {
      EXPECT_FALSE(error.is_ok());
      EXPECT_EQ(error.message(), path.string() + ": the file became shorter while it was read (" +
                                     std::to_string(text.size()) + " bytes when opened, " + std::to_string(cut) +
                                     " now)");
    } else {
      EXPECT_TRUE(error.is_ok()) << error.message();
      EXPECT_EQ(records, 60000u);
      EXPECT_EQ(reader.bytes_read(), text.size());
    }
  }
  std::filesystem::remove(path);
}

// A CSV file with quoted newlines (and bad rows) and an NDJSON file with
// bad lines, of n rows each, written to dir.
std::vector<ParseInput> write_split_inputs(const std::filesystem::path& dir, int n) {
  std::filesystem::create_directories(dir);
  std::string csv = "user_id,anonymous_id,timestamp,event,note\n";
  std::string nd;
  for (int i = 0; i < n; ++i) {
    const std::string u = i % 3 ? "u" + std::to_string(i % 41) : "";
    const std::string a = "a" + std::to_string(i % 53);
    const std::string t = i % 97 == 5 ? "bad-time" : std::to_string(1767607200 + i);
    // Mostly a quoted note with a newline; some a plain one with a quote
    // (a character there), some text after a closing quote (a bad row).
    const std::string pad(static_cast<size_t>(i % 30), 'q');
    const std::string note = i % 11 == 4   ? "5\" " + pad + "\""
                             : i % 13 == 6 ? "\"ab\"c\"d" + pad
                                           : "\"x\n" + pad + (i % 7 ? "" : "\"\"quoted\"\"") + "\"";
    csv += u + "," + a + "," + t + ",e" + std::to_string(i % 4) + "," + note + "\n";
    nd += i % 89 == 3 ? "{broken\n"
                       : R"({"user_id":")" + u + R"(","anonymous_id":")" + a + R"(","event":"e","timestamp":)" + t.substr(0, 10) +
                             R"(,"properties":{"i":)" + std::to_string(i) + "}}\n";
  }
  std::ofstream((dir / "e.csv").string()) << csv;
  std::ofstream((dir / "e.ndjson").string()) << nd;
  return {{(dir / "e.csv").string(), InputKind::kEvents}, {(dir / "e.ndjson").string(), InputKind::kEvents}};
}

// Parses `inputs` in rounds of round_lines lines: the rounds' parts appended
// in order, their errors, and how many rounds there were.
struct Rounds {
  ImportBatch batch;
  ImportErrors errors;
  size_t n = 0;
  size_t empty = 0;  // rounds without events
};
Rounds parse_in_rounds(const std::vector<ParseInput>& inputs, unsigned threads, uint64_t round_lines,
                       size_t block_bytes = 32u << 20) {
  Rounds r;
  RoundParser rounds(inputs, threads, round_lines);
  rounds.set_block_bytes(block_bytes);
  for (;;) {
    std::vector<ImportBatch> parts;
    auto more = rounds.next(parts, r.errors);
    EXPECT_TRUE(more.is_ok()) << more.status().message();
    if (!more || !*more) break;
    ++r.n;
    r.empty += parts.empty();
    for (ImportBatch& part : parts) r.batch.append(std::move(part));
  }
  EXPECT_TRUE(rounds.done());
  return r;
}

// Splitting files between threads (at any size, with quoted newlines, quotes
// inside plain cells and bad rows near the split points) gives the same batch and the same errors, line
// numbers included, as one thread.
TEST(ParseFiles, SplitMatchesSequential) {
  const auto dir = std::filesystem::temp_directory_path() / ("cairn-split-" + std::to_string(::getpid()));
  const std::vector<ParseInput> inputs = write_split_inputs(dir, 3000);
  ImportBatch one;
  ImportErrors one_errors;
  ASSERT_TRUE(parse_files(inputs, 1, one, one_errors).is_ok());
  ASSERT_GT(one_errors.count(), 40u);
  for (unsigned threads : {2u, 3u, 7u, 16u}) {
    ImportBatch many;
    ImportErrors many_errors;
    ASSERT_TRUE(parse_files(inputs, threads, many, many_errors, {}, 1).is_ok());
    EXPECT_EQ(dump(many), dump(one)) << threads << " threads";
    EXPECT_EQ(messages(many_errors), messages(one_errors)) << threads << " threads";
  }
  std::filesystem::remove_all(dir);
}

// Files parsed in rounds of a few thousand lines (each file cut into pieces
// for them, the CSV's guessed starts often inside quotes): the rounds' parts
// appended in order are the batch of one parse, and their errors the same
// rows with the same line numbers.
TEST(ParseFiles, RoundsMatchOneParse) {
  const auto dir = std::filesystem::temp_directory_path() / ("cairn-rounds-" + std::to_string(::getpid()));
  std::vector<ParseInput> inputs = write_split_inputs(dir, 30000);
  // The same files gzipped too: read in pieces of a round's lines, each
  // going on from where the one before stopped.
  uint64_t lines = 0;
  for (size_t i = 0, n = inputs.size(); i < n; ++i) {
    std::ifstream in(inputs[i].path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(inputs[i].path + ".gz", std::ios::binary) << gzip(text);
    inputs.push_back({inputs[i].path + ".gz", InputKind::kEvents});
    lines += 2 * static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
  }
  ImportBatch one;
  ImportErrors one_errors;
  ASSERT_TRUE(parse_files(inputs, 1, one, one_errors).is_ok());
  ASSERT_GT(one_errors.count(), 4 * 300u);
  for (unsigned threads : {1u, 2u, 3u})
    for (uint64_t round_lines : {3000u, 11000u}) {
      // (A .gz file's pieces, alone in their rounds, are parsed in blocks
      // of a few records on more than one thread.)
      const Rounds r = parse_in_rounds(inputs, threads, round_lines, 1000 * threads);
      EXPECT_GE(r.n, lines / round_lines) << threads << " threads, rounds of " << round_lines;
      EXPECT_EQ(r.empty, 0u) << threads << " threads, rounds of " << round_lines;
      // (Compared whole: gtest's diff of two such texts takes minutes.)
      EXPECT_TRUE(dump(r.batch) == dump(one)) << threads << " threads, rounds of " << round_lines;
      EXPECT_EQ(messages(r.errors), messages(one_errors)) << threads << " threads, rounds of " << round_lines;
    }
  std::filesystem::remove_all(dir);
}

// A .gz file's line count is estimated from its first MiB; when the rest
// compresses differently, the estimate is off and the pieces are not what
// was planned. Too few: the last piece reads on to the end. Too many: the
// pieces after the end are dropped, not left as empty rounds. Either way the
// events are those of one parse.
TEST(ParseFiles, GzipRoundsWhenTheEstimateIsOff) {
  const auto dir = std::filesystem::temp_directory_path() / ("cairn-gzrounds-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // Short lines that compress well, and long ones that do not (random
  // notes).
  uint64_t seed = 7;
  auto line = [&](int i, size_t noise) {
    std::string note;
    for (size_t k = 0; k < noise; ++k) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      note += static_cast<char>('a' + (seed >> 33) % 26);
    }
    return R"({"user_id":"u)" + std::to_string(i % 50) + R"(","event":"e","timestamp":)" + std::to_string(1767607200 + i) +
           R"(,"properties":{"n":")" + note + "\"}}\n";
  };
  std::string many_short, few_long;
  for (int i = 0; i < 40000; ++i) many_short += line(i, 0);
  for (int i = 0; i < 3000; ++i) few_long += line(40000 + i, 2000);
  // The first MiB promises many more lines than there are (high), or far
  // fewer (low).
  const std::string high = (dir / "high.ndjson.gz").string(), low = (dir / "low.ndjson.gz").string();
  std::ofstream(high, std::ios::binary) << gzip(many_short + few_long);
  std::ofstream(low, std::ios::binary) << gzip(few_long + many_short);
  for (const std::string& path : {high, low}) {
    const std::vector<ParseInput> inputs{{path, InputKind::kEvents}};
    ImportBatch one;
    ImportErrors one_errors;
    ASSERT_TRUE(parse_files(inputs, 1, one, one_errors).is_ok());
    ASSERT_EQ(one.events.size(), 43000u);
    const Rounds r = parse_in_rounds(inputs, 2, 5000);
    // high: estimated at far more than 43,000 lines, so pieces of 5,000
    // lines, the ninth reaching the end; low: at about 3,000, so one piece.
    EXPECT_EQ(r.n, path == high ? 9u : 1u) << path;
    EXPECT_EQ(r.empty, 0u) << path;
    EXPECT_TRUE(dump(r.batch) == dump(one)) << path;
    EXPECT_EQ(r.errors.count(), 0u) << path;
  }
  std::filesystem::remove_all(dir);
}

// Many gzip members, one a line and some empty, read as one stream: every
// line once, in order, across the reader's chunks.
TEST(ParseStreaming, ManyGzipMembers) {
  std::string plain, gz;
  for (int i = 0; i < 5000; ++i) {
    const std::string line = R"({"user_id":"u)" + std::to_string(i) + R"(","event":"e","timestamp":)" +
                             std::to_string(1767607200 + i) + "}\n";
    plain += line;
    gz += gzip(line);
    if (i % 7 == 0) gz += gzip("");
  }
  auto a = parse("m.ndjson", plain);
  auto g = parse("m.ndjson.gz", gz);
  ASSERT_TRUE(g->status.is_ok()) << g->status.message();
  ASSERT_EQ(g->batch.events.size(), 5000u);
  EXPECT_EQ(dump(g->batch), dump(a->batch));
}

// A .gz file alone in its round is parsed in blocks on other threads than
// the one decompressing it: records too long, bad rows, a CSV header with a
// column missing, a byte order mark, and rounds that cut the file give the
// batch and the errors of one parse.
TEST(ParseFiles, GzipInBlocksMatchesOneParse) {
  const auto dir = std::filesystem::temp_directory_path() / ("cairn-gzblocks-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string huge(RecordReader::kMaxRecord + 10, 'z');
  std::string csv = "\xEF\xBB\xBFuser_id,timestamp,event,note\n", nd = "\xEF\xBB\xBF";
  for (int i = 0; i < 3000; ++i) {
    const std::string t = i % 17 == 3 ? "bad" : std::to_string(1767607200 + i);
    csv += "u" + std::to_string(i % 30) + "," + t + ",e," + (i % 5 ? "plain" : "\"two\nlines\"") + "\n";
    nd += R"({"user_id":"u)" + std::to_string(i % 30) + R"(","event":"e","timestamp":)" + (i % 19 == 4 ? "\"x\"" : t) + "}\n";
    if (i == 1500) {
      csv += huge + "\n";
      nd += huge + "\n";
    }
    if (i % 400 == 7) nd += "\n";
  }
  const std::vector<std::pair<std::string, std::string>> files{
      {"e.csv.gz", csv}, {"e.ndjson.gz", nd}, {"bad.csv.gz", "user_id,timestamp,note\nu,1,x\nu,2,y\n"}};
  for (const auto& [name, text] : files) {
    const std::string path = (dir / name).string();
    std::ofstream(path, std::ios::binary) << gzip(text);
    const std::vector<ParseInput> inputs{{path, InputKind::kEvents}};
    ImportBatch one;
    ImportErrors one_errors;
    ASSERT_TRUE(parse_files(inputs, 1, one, one_errors).is_ok());
    ASSERT_GT(one_errors.count(), 0u) << name;
    for (uint64_t round_lines : {uint64_t{UINT64_MAX}, uint64_t{700}})
      for (size_t block_bytes : {size_t{1}, size_t{900}, size_t{1} << 20}) {
        const Rounds r = parse_in_rounds(inputs, 2, round_lines, block_bytes);
        EXPECT_TRUE(dump(r.batch) == dump(one)) << name << " " << round_lines << " " << block_bytes;
        EXPECT_EQ(messages(r.errors), messages(one_errors)) << name << " " << round_lines << " " << block_bytes;
      }
  }
  std::filesystem::remove_all(dir);
}

// A .gz file's progress is counted in compressed bytes, as its size is (a
// progress bar measures one against the other): never past the file's size,
// on one thread or in blocks, in one round or several.
TEST(ParseFiles, GzipProgressCountsCompressedBytes) {
  const auto dir = std::filesystem::temp_directory_path() / ("cairn-gzprogress-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string nd;
  for (int i = 0; i < 60000; ++i)
    nd += R"({"user_id":"u)" + std::to_string(i % 300) + R"(","event":"e","timestamp":)" + std::to_string(1767607200 + i) + "}\n";
  const std::string path = (dir / "p.ndjson.gz").string();
  std::ofstream(path, std::ios::binary) << gzip(nd);
  const uint64_t size = std::filesystem::file_size(path);
  ASSERT_GT(nd.size(), 3 * size);
  for (unsigned threads : {1u, 2u})
    for (uint64_t round_lines : {uint64_t{UINT64_MAX}, uint64_t{20000}}) {
      RoundParser rounds({{path, InputKind::kEvents}}, threads, round_lines);
      uint64_t most = 0, calls = 0;
      ImportErrors errors;
      for (;;) {
        std::vector<ImportBatch> parts;
        auto more = rounds.next(parts, errors, [&](uint64_t bytes, uint64_t) {
          most = std::max(most, bytes);
          ++calls;
        });
        ASSERT_TRUE(more.is_ok());
        if (!*more) break;
      }
      EXPECT_GT(calls, 0u) << threads << " " << round_lines;
      EXPECT_GT(most, 0u) << threads << " " << round_lines;
      EXPECT_LE(most, size) << threads << " " << round_lines;
    }
  std::filesystem::remove_all(dir);
}

}  // namespace parse_test
}  // namespace cairn
