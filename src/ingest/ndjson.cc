// NDJSON input, one JSON object a line, parsed with simdjson. Two forms:
//
// Flat: {"user_id","anonymous_id","event","timestamp","properties":{..},
//        "revenue","message_id"} (camelCase userId/anonymousId/messageId too).
// Segment spec: objects with "type" track | page | screen | identify | alias |
//        group, and {"batch": [...]} envelopes of those.
//
// Mapping of the Segment spec (also in docs/FORMAT.md):
//   track  -> event `event`, properties as given
//   page   -> event "page_view", screen -> event "screen_view"; `name` becomes
//             the property page_name / screen_name
//   identify -> traits of userId; anonymousId is linked to userId
//   alias  -> previousId is linked to userId (two known ids merge)
//   group  -> traits group_id and group_<trait> of userId
//   context.campaign.{source,medium,name,term,content} -> utm_* properties,
//   context.page.{path,url,referrer,title,search} -> page_* properties
//   (properties sent explicitly win); timestamp falls back to
//   originalTimestamp, then receivedAt, then sentAt.
#include <fmt/format.h>

#include <simdjson.h>

#include "ingest/parse_internal.h"

namespace cairn {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

class NdjsonParser {
 public:
  explicit NdjsonParser(ParseContext& ctx) : ctx_(ctx) {}

  Status run() {
    return for_each_record(ctx_, /*csv=*/false, [&](const Record& rec) {
      if (is_blank(rec.text)) return true;
      rec_ = &rec;
      parse_line(rec);
      return true;
    });
  }

 private:
  static bool is_blank(std::string_view s) {
    for (char c : s)
      if (c != ' ' && c != '\t' && c != '\r') return false;
    return true;
  }

  // Reports an error for the current row; always returns false.
  bool fail(std::string field, std::string msg) {
    ctx_.errors.add(row_error(ctx_.name, rec_->line, prefix_ + field, std::move(msg), rec_->text));
    return false;
  }

  // True when the JSON text holds an escaped NUL (\u0000): cairn stores no
  // NUL characters (they mark erased dictionary entries).
  static bool has_nul_escape(std::string_view s) {
    // Most lines have no escape at all: one scan for a backslash, where
    // looking for "u0000" stopped at every 'u' ("user_id", "utm_source").
    if (s.find('\\') == std::string_view::npos) return false;
    for (size_t i = s.find("u0000"); i != std::string_view::npos; i = s.find("u0000", i + 1)) {
      size_t slashes = 0;
      while (slashes < i && s[i - 1 - slashes] == '\\') ++slashes;
      if (slashes % 2 == 1) return true;
    }
    return false;
  }

  void parse_line(const Record& rec) {
    element doc;
    // The reader guarantees RecordReader::kPadding readable bytes past the end.
    auto err = parser_.parse(rec.text.data(), rec.text.size(), false).get(doc);
    prefix_.clear();
    if (err) {
      fail("", fmt::format("invalid JSON: {}", simdjson::error_message(err)));
      return;
    }
    object obj;
    if (doc.get_object().get(obj)) {
      fail("", "invalid JSON: expected an object");
      return;
    }
    if (has_nul_escape(rec.text)) {
      fail("", "contains a NUL character (\\u0000), which cairn does not store");
      return;
    }
    const Fields fields = scan(obj);
    if (const element* batch = fields.get(kBatch)) {
      simdjson::dom::array items;
      if (batch->get_array().get(items)) {
        fail("batch", "expected an array of messages");
        return;
      }
      size_t i = 0;
      for (element item : items) {
        prefix_ = fmt::format("batch[{}].", i++);
        row_.clear();
        object o;
        if (item.get_object().get(o)) {
          fail("", "expected an object");
          continue;
        }
        if (parse_segment(o, &obj)) row_.commit(ctx_.batch);
      }
      return;
    }
    row_.clear();
    const bool ok = fields.get(kType) ? parse_segment(obj, nullptr) : parse_flat(fields);
    if (ok) row_.commit(ctx_.batch);
  }

  // A string or number id (Segment allows both); empty when absent or null.
  bool get_id(const object& o, std::string_view key, std::string_view& out, const char* field) {
    element v;
    out = {};
    if (o[key].get(v)) return true;
    return id_value(v, out, field);
  }
  bool id_value(const element& v, std::string_view& out, const char* field) {
    out = {};
    switch (v.type()) {
      case element_type::STRING:
        out = v.get_string().value_unsafe();
        return true;
      case element_type::INT64:
        out = row_.own(std::to_string(v.get_int64().value_unsafe()));
        return true;
      case element_type::UINT64:
        out = row_.own(std::to_string(v.get_uint64().value_unsafe()));
        return true;
      case element_type::NULL_VALUE:
        return true;
      default:
        return fail(field, "expected a string");
    }
  }

  bool get_time(const element& v, const char* field, Micros& out) {
    if (v.type() == element_type::STRING) {
      const std::string_view s = v.get_string().value_unsafe();
      if (!parse_time(s, out)) return fail(field, cannot_parse(s, "a time"));
      return true;
    }
    double d;
    if (!v.get_double().get(d)) {
      auto t = time_from_unix_number(d);
      if (!t) return fail(field, cannot_parse(simdjson::minify(v), "a time"));
      out = *t;
      return true;
    }
    return fail(field, cannot_parse(simdjson::minify(v), "a time"));
  }

  // Converts a JSON value to a property value; false when it is null.
  bool to_value(const element& v, PendingValue& out) {
    switch (v.type()) {
      case element_type::STRING:
        out.type = ValueType::kString;
        out.str = v.get_string().value_unsafe();
        return true;
      case element_type::INT64:
        out.type = ValueType::kNumber;
        out.num = static_cast<double>(v.get_int64().value_unsafe());
        return true;
      case element_type::UINT64:
        out.type = ValueType::kNumber;
        out.num = static_cast<double>(v.get_uint64().value_unsafe());
        return true;
      case element_type::DOUBLE:
        out.type = ValueType::kNumber;
        out.num = v.get_double().value_unsafe();
        return true;
      case element_type::BOOL:
        out.type = ValueType::kBool;
        out.flag = v.get_bool().value_unsafe();
        return true;
      case element_type::NULL_VALUE:
        return false;
      case element_type::ARRAY:
      case element_type::OBJECT:
        out.type = ValueType::kString;
        out.str = row_.own(simdjson::minify(v));
        return true;
    }
    return false;
  }

  // Adds an object's members as properties; nested objects flatten to
  // dotted keys ("address.city"), arrays are kept as JSON text.
  void add_props(PendingEvent& e, const object& o, std::string_view key_prefix, int depth) {
    for (auto field : o) {
      std::string_view key = field.key;
      if (!key_prefix.empty()) key = row_.own(fmt::format("{}.{}", key_prefix, key));
      object nested;
      if (depth < 8 && !field.value.get_object().get(nested)) {
        add_props(e, nested, key, depth + 1);
        continue;
      }
      PendingValue pv;
      if (to_value(field.value, pv)) row_.add_prop(e, key, pv);
    }
  }

  bool get_properties(const object& o, PendingEvent& e, const char* key) {
    element props;
    if (o[key].get(props)) return true;
    return properties_value(props, e, key);
  }
  bool properties_value(const element& props, PendingEvent& e, const char* key) {
    if (props.type() == element_type::NULL_VALUE) return true;
    object po;
    if (props.get_object().get(po)) return fail(key, "expected an object");
    add_props(e, po, "", 0);
    return true;
  }

  bool get_revenue(const object& o, PendingEvent& e) {
    element v;
    if (o["revenue"].get(v)) return true;
    return revenue_value(v, e);
  }
  bool revenue_value(const element& v, PendingEvent& e) {
    if (v.type() == element_type::NULL_VALUE) return true;
    PendingValue pv;
    pv.type = ValueType::kNumber;
    if (v.type() == element_type::STRING) {
      const std::string_view s = v.get_string().value_unsafe();
      if (!parse_number(s, pv.num)) return fail("revenue", cannot_parse(s, "a number"));
    } else if (v.get_double().get(pv.num)) {
      return fail("revenue", cannot_parse(simdjson::minify(v), "a number"));
    }
    // The top-level revenue wins over a "revenue" inside properties.
    for (size_t i = e.prop_begin; i < e.prop_begin + e.prop_count; ++i)
      if (row_.props[i].key == "revenue") {
        row_.props[i].value = pv;
        return true;
      }
    row_.add_prop(e, "revenue", pv);
    return true;
  }

  bool check_revenue_property(const PendingEvent& e) {
    constexpr uint64_t revenue_bit = key_bit("revenue");
    if (!(e.key_bits & revenue_bit)) return true;
    for (size_t i = e.prop_begin; i < e.prop_begin + e.prop_count; ++i) {
      PendingProp& p = row_.props[i];
      if (p.key != "revenue" || p.value.type == ValueType::kNumber) continue;
      if (p.value.type == ValueType::kString && parse_number(p.value.str, p.value.num)) {
        p.value.type = ValueType::kNumber;
        continue;
      }
      return fail("properties.revenue",
                  cannot_parse(p.value.type == ValueType::kBool ? (p.value.flag ? "true" : "false") : p.value.str,
                               "a number"));
    }
    return true;
  }

  // The top-level members of one line, found in a single pass.
  struct Fields {
    const element* get(int k) const { return has & (1u << k) ? &v[k] : nullptr; }
    element v[12];
    uint32_t has = 0;
  };
  enum Field { kUser, kUserCamel, kAnon, kAnonCamel, kMessage, kMessageCamel, kEvent, kTime, kProps, kRevenue, kType, kBatch };

  static int field_of(std::string_view k) {
    switch (k.size()) {
      case 4:
        return k == "type" ? kType : -1;
      case 5:
        return k == "event" ? kEvent : k == "batch" ? kBatch : -1;
      case 6:
        return k == "userId" ? kUserCamel : -1;
      case 7:
        return k == "user_id" ? kUser : k == "revenue" ? kRevenue : -1;
      case 9:
        return k == "timestamp" ? kTime : k == "messageId" ? kMessageCamel : -1;
      case 10:
        return k == "message_id" ? kMessage : k == "properties" ? kProps : -1;
      case 11:
        return k == "anonymousId" ? kAnonCamel : -1;
      case 12:
        return k == "anonymous_id" ? kAnon : -1;
      default:
        return -1;
    }
  }

  static Fields scan(const object& o) {
    Fields f;
    for (auto field : o) {
      const int k = field_of(field.key);
      if (k >= 0 && !(f.has & (1u << k))) {  // the first of repeated keys wins, as o[key] would
        f.v[k] = field.value;
        f.has |= 1u << k;
      }
    }
    return f;
  }

  bool parse_flat(const Fields& f) {
    PendingEvent e;
    e.prop_begin = row_.props.size();
    const bool user_snake = f.get(kUser) || !f.get(kUserCamel);
    const bool anon_snake = f.get(kAnon) || !f.get(kAnonCamel);
    const bool msg_snake = f.get(kMessage) || !f.get(kMessageCamel);
    const char* user_key = user_snake ? "user_id" : "userId";
    const element* user = f.get(user_snake ? kUser : kUserCamel);
    const element* anon = f.get(anon_snake ? kAnon : kAnonCamel);
    const element* msg = f.get(msg_snake ? kMessage : kMessageCamel);
    if (user && !id_value(*user, e.user_id, user_key)) return false;
    if (anon && !id_value(*anon, e.anonymous_id, anon_snake ? "anonymous_id" : "anonymousId")) return false;
    if (msg && !id_value(*msg, e.message_id, msg_snake ? "message_id" : "messageId")) return false;
    if (e.user_id.empty() && e.anonymous_id.empty())
      return fail(user_key, "is missing (an event needs user_id or anonymous_id)");
    const element* v = f.get(kEvent);
    if (!v || v->type() == element_type::NULL_VALUE) return fail("event", "is missing");
    if (v->get_string().get(e.event)) return fail("event", "expected a string");
    if (e.event.empty()) return fail("event", "is missing");
    v = f.get(kTime);
    if (!v || v->type() == element_type::NULL_VALUE) return fail("timestamp", "is missing");
    if (!get_time(*v, "timestamp", e.time)) return false;
    if ((v = f.get(kProps)) && !properties_value(*v, e, "properties")) return false;
    if (!check_revenue_property(e)) return false;
    if ((v = f.get(kRevenue)) && !revenue_value(*v, e)) return false;
    row_.events.push_back(e);
    return true;
  }

  bool segment_time(const object& o, const object* envelope, Micros& out) {
    for (const char* key : {"timestamp", "originalTimestamp", "receivedAt", "sentAt"}) {
      element v;
      if (!o[key].get(v) && v.type() != element_type::NULL_VALUE) return get_time(v, key, out);
    }
    if (envelope) {
      element v;
      if (!(*envelope)["sentAt"].get(v) && v.type() != element_type::NULL_VALUE) return get_time(v, "sentAt", out);
    }
    return fail("timestamp", "is missing");
  }

  // context.campaign -> utm_*, context.page -> page_*; explicit properties win.
  void add_context(const object& o, PendingEvent& e) {
    object ctx;
    if (o["context"].get_object().get(ctx)) return;
    static constexpr std::pair<const char*, const char*> kCampaign[] = {
        {"source", "utm_source"}, {"medium", "utm_medium"}, {"name", "utm_campaign"},
        {"term", "utm_term"},     {"content", "utm_content"}};
    static constexpr std::pair<const char*, const char*> kPage[] = {{"path", "page_path"},
                                                                     {"url", "page_url"},
                                                                     {"referrer", "page_referrer"},
                                                                     {"title", "page_title"},
                                                                     {"search", "page_search"}};
    object sub;
    if (!ctx["campaign"].get_object().get(sub)) {
      for (auto [from, to] : kCampaign) {
        element v;
        PendingValue pv;
        if (!sub[from].get(v) && to_value(v, pv)) row_.add_prop(e, to, pv);
      }
    }
    if (!ctx["page"].get_object().get(sub)) {
      for (auto [from, to] : kPage) {
        element v;
        PendingValue pv;
        if (!sub[from].get(v) && to_value(v, pv)) row_.add_prop(e, to, pv);
      }
    }
  }

  bool add_traits(std::string_view id, bool known, const object& o, const char* key, std::string_view key_prefix) {
    element t;
    if (o[key].get(t) || t.type() == element_type::NULL_VALUE) return true;
    object to;
    if (t.get_object().get(to)) return fail(key, "expected an object");
    for (auto field : to) {
      PendingValue pv;
      if (!to_value(field.value, pv)) continue;
      std::string_view k = field.key;
      if (!key_prefix.empty()) k = row_.own(fmt::format("{}{}", key_prefix, k));
      row_.traits.push_back(PendingTrait{id, PendingProp{k, pv}, known});
    }
    return true;
  }

  bool parse_segment(const object& o, const object* envelope) {
    std::string_view type;
    element tv;
    if (o["type"].get(tv)) return fail("type", "is missing");
    if (tv.get_string().get(type)) return fail("type", "expected a string");
    std::string_view user, anon, message;
    if (!get_id(o, "userId", user, "userId")) return false;
    if (!get_id(o, "anonymousId", anon, "anonymousId")) return false;
    if (!get_id(o, "messageId", message, "messageId")) return false;

    if (type == "identify") {
      if (user.empty()) {
        if (anon.empty()) return fail("userId", "is missing");
        return add_traits(anon, false, o, "traits", "");  // traits of a still anonymous visitor
      }
      if (!add_traits(user, true, o, "traits", "")) return false;
      if (!anon.empty()) row_.links.push_back(PendingLink{anon, user});
      return true;
    }
    if (type == "alias") {
      std::string_view previous;
      if (!get_id(o, "previousId", previous, "previousId")) return false;
      if (previous.empty()) return fail("previousId", "is missing");
      if (user.empty()) return fail("userId", "is missing");
      row_.links.push_back(PendingLink{previous, user});
      return true;
    }
    if (type == "group") {
      std::string_view group;
      if (!get_id(o, "groupId", group, "groupId")) return false;
      const std::string_view who = user.empty() ? anon : user;
      if (who.empty()) return fail("userId", "is missing");
      if (group.empty()) return fail("groupId", "is missing");
      PendingValue pv;
      pv.str = group;
      row_.traits.push_back(PendingTrait{who, PendingProp{"group_id", pv}, !user.empty()});
      return add_traits(who, !user.empty(), o, "traits", "group_");
    }
    if (type != "track" && type != "page" && type != "screen")
      return fail("type", fmt::format("unknown message type \"{}\" (expected track, page, screen, identify, "
                                      "alias or group)",
                                      type.substr(0, 100)));
    PendingEvent e;
    e.prop_begin = row_.props.size();
    e.user_id = user;
    e.anonymous_id = anon;
    e.message_id = message;
    if (user.empty() && anon.empty()) return fail("userId", "is missing (a message needs userId or anonymousId)");
    if (type == "track") {
      element v;
      if (o["event"].get(v) || v.type() == element_type::NULL_VALUE) return fail("event", "is missing");
      if (v.get_string().get(e.event)) return fail("event", "expected a string");
      if (e.event.empty()) return fail("event", "is missing");
    } else {
      e.event = type == "page" ? "page_view" : "screen_view";
    }
    if (!segment_time(o, envelope, e.time)) return false;
    if (!get_properties(o, e, "properties")) return false;
    if (type != "track") {
      element v;
      PendingValue pv;
      if (!o["name"].get(v) && to_value(v, pv)) row_.add_prop(e, type == "page" ? "page_name" : "screen_name", pv);
    }
    add_context(o, e);
    if (!check_revenue_property(e)) return false;
    if (!get_revenue(o, e)) return false;
    row_.events.push_back(e);
    return true;
  }

  ParseContext& ctx_;
  simdjson::dom::parser parser_;
  PendingRow row_;
  const Record* rec_ = nullptr;
  std::string prefix_;
};

}  // namespace

Status parse_ndjson(ParseContext& ctx) { return NdjsonParser(ctx).run(); }

}  // namespace cairn
