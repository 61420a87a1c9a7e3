#include "storage/catalog.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "storage/binary_io.h"

namespace cairn {

namespace {

// The id-string of an erased slot: keeps numbering stable and cannot be sent
// by a client (parsers reject NUL bytes in ids).
std::string erased_placeholder(uint32_t id) { return fmt::format("{}erased:{}", '\0', id); }

void put_pool(BinaryWriter& w, const StringPool& pool) {
  w.put_varint(pool.size());
  for (uint32_t i = 0; i < pool.size(); ++i) w.put_string(pool.get(i));
}

bool get_pool(BinaryReader& r, StringPool& pool) {
  const uint64_t n = r.get_count(1);
  for (uint64_t i = 0; i < n && r.ok(); ++i)
    pool.append_unchecked(r.get_string());  // the file is checksummed; written from a pool of distinct strings
  return r.ok();
}

void put_prop(BinaryWriter& w, const StoredProp& p) {
  w.put_varint(p.key);
  w.put_u8(static_cast<uint8_t>(p.type));
  w.put_u64(p.bits);
}

StoredProp get_prop(BinaryReader& r) {
  StoredProp p{};
  p.key = static_cast<uint32_t>(r.get_varint());
  p.type = static_cast<ValueType>(r.get_u8() % 3);
  p.bits = r.get_u64();
  return p;
}

}  // namespace

uint32_t Catalog::intern_id(std::string_view id, bool known) {
  const uint32_t i = ids_.intern(id);
  if (i == parent_.size()) {
    parent_.push_back(i);
    known_.push_back(0);
    erased_.push_back(0);
  }
  if (known) known_[i] = 1;
  return i;
}

uint32_t Catalog::root(uint32_t id) const {
  while (parent_[id] != id) id = parent_[id];
  return id;
}

uint32_t Catalog::link(uint32_t from, uint32_t to) {
  uint32_t a = root(from), b = root(to);
  // Path compression keeps later lookups short.
  for (uint32_t x : {from, to}) {
    const uint32_t r = root(x);
    while (parent_[x] != r) {
      const uint32_t next = parent_[x];
      parent_[x] = r;
      x = next;
    }
  }
  if (a == b) return kNoRoot;
  auto cluster_known = [&](uint32_t r) { return known_[r] != 0; };
  uint32_t keep = b, gone = a;
  if (!cluster_known(b) && cluster_known(a)) std::swap(keep, gone);
  parent_[gone] = keep;
  if (known_[gone]) known_[keep] = 1;
  auto it = traits_.find(gone);
  if (it != traits_.end()) {
    for (const StoredProp& t : it->second) {
      auto& mine = traits_[keep];
      if (std::none_of(mine.begin(), mine.end(), [&](const StoredProp& m) { return m.key == t.key; }))
        mine.push_back(t);
    }
    traits_.erase(gone);
  }
  return gone;
}

std::vector<uint32_t> Catalog::ids_of(uint32_t r) const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < parent_.size(); ++i)
    if (!erased_[i] && root(i) == r) out.push_back(i);
  return out;
}

const std::vector<StoredProp>* Catalog::traits_of(uint32_t r) const {
  auto it = traits_.find(r);
  return it == traits_.end() ? nullptr : &it->second;
}

void Catalog::set_trait(uint32_t r, StoredProp trait) {
  auto& list = traits_[r];
  for (StoredProp& t : list) {
    if (t.key == trait.key) {
      t = trait;
      return;
    }
  }
  list.push_back(trait);
}

void Catalog::erase_person(uint32_t r) {
  for (uint32_t id : ids_of(r)) erased_[id] = 1;
  traits_.erase(r);
}

void Catalog::erase_string(uint32_t id) { strings.replace(id, erased_placeholder(id)); }

void Catalog::set_cost(const CostRow& row) {
  for (CostRow& c : costs_) {
    if (c.day == row.day && c.channel == row.channel && c.campaign == row.campaign) {
      c.cost = row.cost;
      return;
    }
  }
  costs_.push_back(row);
}

std::string Catalog::serialize() const {
  BinaryWriter w;
  put_pool(w, events);
  put_pool(w, keys);
  put_pool(w, strings);
  w.put_varint(ids_.size());
  for (uint32_t i = 0; i < ids_.size(); ++i) {
    w.put_string(erased_[i] ? std::string_view() : ids_.get(i));
    w.put_varint(root(i));
    w.put_u8(static_cast<uint8_t>(known_[i] | (erased_[i] << 1)));
  }
  std::map<uint32_t, const std::vector<StoredProp>*> sorted;
  for (const auto& [r, list] : traits_) sorted.emplace(r, &list);
  w.put_varint(sorted.size());
  for (const auto& [r, list] : sorted) {
    w.put_varint(r);
    w.put_varint(list->size());
    for (const StoredProp& p : *list) put_prop(w, p);
  }
  w.put_varint(costs_.size());
  for (const CostRow& c : costs_) {
    w.put_zigzag(c.day);
    w.put_varint(c.channel);
    w.put_varint(c.campaign);
    w.put_f64(c.cost);
  }
  return std::move(w.buffer());
}

Result<Catalog> Catalog::parse(std::string_view payload, const std::string& what) {
  Catalog c;
  BinaryReader r(payload);
  auto bad = [&]() { return Status::corruption(fmt::format("{}: malformed catalog near offset {}", what, r.position())); };
  if (!get_pool(r, c.events) || !get_pool(r, c.keys) || !get_pool(r, c.strings)) return bad();
  const uint64_t nids = r.get_count(3);
  c.parent_.resize(nids);
  c.known_.resize(nids);
  c.erased_.resize(nids);
  for (uint64_t i = 0; i < nids && r.ok(); ++i) {
    std::string_view s = r.get_string();
    const uint64_t parent = r.get_varint();
    const uint8_t flags = r.get_u8();
    c.erased_[i] = (flags >> 1) & 1;
    c.known_[i] = flags & 1;
    if (parent >= nids) return bad();
    c.parent_[i] = static_cast<uint32_t>(parent);
    const std::string placeholder = c.erased_[i] ? erased_placeholder(static_cast<uint32_t>(i)) : std::string();
    c.ids_.append_unchecked(c.erased_[i] ? std::string_view(placeholder) : s);
  }
  for (uint64_t i = 0; i < nids; ++i)  // roots must be roots
    if (c.parent_[c.parent_[i]] != c.parent_[i]) return bad();
  const uint64_t ntraits = r.get_count(2);
  for (uint64_t i = 0; i < ntraits && r.ok(); ++i) {
    const auto root = static_cast<uint32_t>(r.get_varint());
    const uint64_t n = r.get_count(10);
    auto& list = c.traits_[root];
    for (uint64_t k = 0; k < n && r.ok(); ++k) list.push_back(get_prop(r));
  }
  const uint64_t ncosts = r.get_count(11);
  for (uint64_t i = 0; i < ncosts && r.ok(); ++i) {
    CostRow row{};
    row.day = r.get_zigzag();
    row.channel = static_cast<uint32_t>(r.get_varint());
    row.campaign = static_cast<uint32_t>(r.get_varint());
    row.cost = r.get_f64();
    c.costs_.push_back(row);
  }
  if (!r.ok() || !r.at_end()) return bad();
  return c;
}

}  // namespace cairn
