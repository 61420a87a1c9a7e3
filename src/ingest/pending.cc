#include "ingest/pending.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace cairn {

bool PendingRow::add_prop(PendingEvent& e, std::string_view key, const PendingValue& v) {
  const uint64_t bit = key_bit(key);
  if (e.key_bits & bit)  // maybe there already: look
    for (size_t i = e.prop_begin; i < e.prop_begin + e.prop_count; ++i)
      if (props[i].key == key) return false;
  e.key_bits |= bit;
  props.push_back(PendingProp{key, v});
  ++e.prop_count;
  return true;
}

namespace {

// A value with its string interned by intern_string(text).
template <typename InternString>
TypedValue typed_value(const PendingValue& v, InternString&& intern_string) {
  TypedValue t;
  t.type = v.type;
  switch (v.type) {
    case ValueType::kString:
      t.bits = intern_string(v.str);
      break;
    case ValueType::kNumber:
      std::memcpy(&t.bits, &v.num, sizeof(double));
      break;
    case ValueType::kBool:
      t.bits = v.flag ? 1 : 0;
      break;
  }
  return t;
}

TypedValue intern_value(ImportBatch& batch, const PendingValue& v) {
  return typed_value(v, [&](std::string_view s) { return batch.strings.intern(s); });
}

}  // namespace

// An event without a message id is identified by its content (ids, name,
// time, properties in order), so re-importing the same file adds nothing.
// The "c:" domain keeps these hashes apart from message-id hashes.
uint64_t PendingRow::content_hash(const PendingEvent& e) const {
  std::string& s = scratch_;
  s.assign("c:");
  auto field = [&s](std::string_view v) {
    const uint32_t n = static_cast<uint32_t>(v.size());
    s.append(reinterpret_cast<const char*>(&n), sizeof n);
    s.append(v);
  };
  field(e.user_id);
  field(e.anonymous_id);
  field(e.event);
  s.append(reinterpret_cast<const char*>(&e.time), sizeof e.time);
  for (size_t i = e.prop_begin; i < e.prop_begin + e.prop_count; ++i) {
    const PendingProp& p = props[i];
    field(p.key);
    s += static_cast<char>(p.value.type);
    switch (p.value.type) {
      case ValueType::kString:
        field(p.value.str);
        break;
      case ValueType::kNumber:
        s.append(reinterpret_cast<const char*>(&p.value.num), sizeof(double));
        break;
      case ValueType::kBool:
        s += p.value.flag ? '1' : '0';
        break;
    }
  }
  return message_hash(s);
}

uint32_t PendingRow::intern_cached(Cached& c, StringPool& pool, std::string_view s) const {
  if (hits(c, s)) return c.id;
  return intern_cached(c, pool, s, StringPool::hash_of(s));
}

uint32_t PendingRow::intern_cached(Cached& c, StringPool& pool, std::string_view s, uint64_t h) const {
  if (hits(c, s)) return c.id;
  c.id = pool.intern(s, h);
  c.text = pool.get(c.id);
  return c.id;
}

uint32_t PendingRow::cached_id(Cached& c, ImportBatch& batch, std::string_view s, bool known, uint64_t h) const {
  // A hit needs no work: the known flag was set when the id was first seen
  // in this role (a cache entry serves one role only).
  if (hits(c, s)) return c.id;
  c.id = batch.intern_id(s, known, h);
  c.text = batch.ids.get(c.id);
  return c.id;
}

uint32_t PendingRow::cached_small(std::vector<Cached>& cache, StringPool& pool, std::string_view s) const {
  if (cache.empty()) cache.resize(kSmallCache);
  return intern_cached(cache[slot_of(s)], pool, s);
}

void PendingRow::commit(ImportBatch& batch) const {
  for (const PendingEvent& e : events) {
    // The ids and values that miss the caches are hashed first, and their
    // dictionary slots prefetched, so that their cache misses overlap; then
    // everything is interned in the usual order (which gives the same ids).
    uint64_t user_hash = 0, anon_hash = 0;
    if (!e.user_id.empty() && !hits(last_user_, e.user_id)) {
      user_hash = StringPool::hash_of(e.user_id);
      batch.ids.prefetch(user_hash);
    }
    if (!e.anonymous_id.empty() && !hits(last_anon_, e.anonymous_id)) {
      anon_hash = StringPool::hash_of(e.anonymous_id);
      batch.ids.prefetch(anon_hash);
    }
    prop_keys_.clear();
    value_hashes_.clear();
    for (size_t i = e.prop_begin; i < e.prop_begin + e.prop_count; ++i) {
      const PendingProp& p = props[i];
      const uint32_t key = cached_small(key_cache_, batch.keys, p.key);
      if (key >= value_cache_.size()) value_cache_.resize(key + 1);
      uint64_t h = 0;
      if (p.value.type == ValueType::kString && !hits(value_cache_[key], p.value.str)) {
        h = StringPool::hash_of(p.value.str);
        batch.strings.prefetch(h);
      }
      prop_keys_.push_back(key);
      value_hashes_.push_back(h);
    }
    BatchEvent be{};
    be.time = e.time;
    const uint32_t user = e.user_id.empty() ? kNoId : cached_id(last_user_, batch, e.user_id, true, user_hash);
    const uint32_t anon =
        e.anonymous_id.empty() ? kNoId : cached_id(last_anon_, batch, e.anonymous_id, false, anon_hash);
    be.person = user != kNoId ? user : anon;
    be.event = cached_small(event_cache_, batch.event_names, e.event);
    be.prop_begin = static_cast<uint32_t>(batch.props.size());
    be.prop_count = static_cast<uint32_t>(e.prop_count);
    be.message_hash = e.message_id.empty() ? content_hash(e) : message_hash(e.message_id);
    for (size_t k = 0; k < e.prop_count; ++k) {
      const PendingProp& p = props[e.prop_begin + k];
      const uint32_t key = prop_keys_[k];
      const TypedValue v = typed_value(
          p.value, [&](std::string_view s) { return intern_cached(value_cache_[key], batch.strings, s, value_hashes_[k]); });
      batch.props.push_back(BatchProperty::of(key, v));
    }
    batch.events.push_back(be);
    // A person's events repeat the same pair: a link equal to the one
    // before it changes nothing, and is not kept.
    if (user != kNoId && anon != kNoId &&
        (batch.links.empty() || batch.links.back().from != anon || batch.links.back().to != user))
      batch.links.push_back(BatchLink{anon, user});
  }
  for (const PendingLink& l : links) {
    const uint32_t from = batch.intern_id(l.from, false);
    const uint32_t to = batch.intern_id(l.to, true);
    batch.links.push_back(BatchLink{from, to});
  }
  for (const PendingTrait& t : traits) {
    const uint32_t id = batch.intern_id(t.id, t.known);
    batch.traits.push_back(BatchTrait{id, batch.keys.intern(t.prop.key), intern_value(batch, t.prop.value),
                                      static_cast<uint32_t>(batch.links.size())});
  }
  for (const PendingCost& c : costs)
    batch.costs.push_back(BatchCost{c.day, batch.strings.intern(c.channel), batch.strings.intern(c.campaign), c.cost});
}

bool parse_number(std::string_view s, double& out) {
  // JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    const size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == d) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    const size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == d) return false;
  }
  if (i != n) return false;
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + n, v);
  if (r.ec != std::errc() || r.ptr != s.data() + n || !std::isfinite(v)) return false;
  out = v;
  return true;
}

PendingValue infer_value(std::string_view cell) {
  PendingValue v;
  if (cell == "true" || cell == "false") {
    v.type = ValueType::kBool;
    v.flag = cell == "true";
    return v;
  }
  if (!cell.empty() && (cell[0] == '-' || (cell[0] >= '0' && cell[0] <= '9')) && parse_number(cell, v.num)) {
    v.type = ValueType::kNumber;
    return v;
  }
  v.type = ValueType::kString;
  v.str = cell;
  return v;
}

RowError row_error(std::string_view file, uint64_t line, std::string field, std::string message,
                   std::string_view raw) {
  RowError e;
  e.file = std::string(file);
  e.line = line;
  e.field = std::move(field);
  e.message = std::move(message);
  e.raw = std::string(raw.substr(0, 1000));
  return e;
}

std::string cannot_parse(std::string_view text, std::string_view what) {
  std::string shown(text.substr(0, 100));
  if (text.size() > 100) shown += "...";
  return fmt::format("cannot parse \"{}\" as {}", shown, what);
}

}  // namespace cairn
