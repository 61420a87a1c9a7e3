#include "ingest/batch.h"

#include <thread>

#include <xxhash.h>

namespace cairn {

uint64_t message_hash(std::string_view message_id) {
  const uint64_t h = XXH3_64bits(message_id.data(), message_id.size());
  return h == 0 ? 1 : h;
}

void ImportBatch::append(ImportBatch&& o) {
  if (empty()) {
    *this = std::move(o);
    o = ImportBatch();
    return;
  }
  std::vector<uint32_t> id_map(o.ids.size()), ev_map(o.event_names.size()), key_map(o.keys.size()),
      str_map(o.strings.size());
  for (uint32_t i = 0; i < o.event_names.size(); ++i) ev_map[i] = event_names.intern(o.event_names.get(i));
  for (uint32_t i = 0; i < o.keys.size(); ++i) key_map[i] = keys.intern(o.keys.get(i));
  auto value = [&](ValueType type, uint64_t bits) { return type == ValueType::kString ? str_map[bits] : bits; };
  const uint64_t prop_base = props.size();
  // Two independent halves on two threads: person ids then events, value
  // strings then properties (separate pools, separate arrays).
  std::thread strings_and_props([&] {
    strings.intern_all(o.strings, str_map.data());
    o.props.drain([&](BatchProperty p) {
      p.key = key_map[p.key];
      p.bits = value(p.type, p.bits);
      props.push_back(p);
    });
  });
  ids.intern_all(o.ids, id_map.data());
  id_is_known.resize(ids.size(), 0);
  for (uint32_t i = 0; i < o.ids.size(); ++i)
    if (o.id_is_known[i]) id_is_known[id_map[i]] = 1;
  o.events.drain([&](BatchEvent e) {
    e.person = id_map[e.person];
    e.event = ev_map[e.event];
    e.prop_begin = static_cast<uint32_t>(e.prop_begin + prop_base);
    events.push_back(e);
  });
  strings_and_props.join();
  const size_t links_base = links.size();
  for (const BatchLink& l : o.links) links.push_back(BatchLink{id_map[l.from], id_map[l.to]});
  for (const BatchTrait& t : o.traits)
    traits.push_back(BatchTrait{id_map[t.id], key_map[t.key], TypedValue{t.value.type, value(t.value.type, t.value.bits)},
                                t.links_before == BatchTrait::kAfterLinks
                                    ? static_cast<uint32_t>(links.size())
                                    : static_cast<uint32_t>(links_base + t.links_before)});
  for (const BatchCost& c : o.costs) costs.push_back(BatchCost{c.day, str_map[c.channel], str_map[c.campaign], c.cost});
  o = ImportBatch();
}

}  // namespace cairn
