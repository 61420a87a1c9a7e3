// The catalog: everything about a database that is not event rows. The
// dictionaries (event names, property keys, string values), the identity
// graph (every person id, anonymous or known, and its canonical root), person
// traits and campaign costs. Ids only grow, so every segment stays valid
// against every later catalog. Stored as one sealed file per version
// (catalog-NNNNNN.bin, see docs/FORMAT.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "core/string_pool.h"
#include "storage/rows.h"

namespace cairn {

struct CostRow {
  int64_t day;
  uint32_t channel;   // string id
  uint32_t campaign;  // string id
  double cost;
};

class Catalog {
 public:
  StringPool events;
  StringPool keys;
  StringPool strings;

  uint32_t id_count() const { return ids_.size(); }
  uint32_t intern_id(std::string_view id, bool known);
  uint32_t find_id(std::string_view id) const { return ids_.find(id); }
  std::string_view id_string(uint32_t id) const { return erased_[id] ? std::string_view() : ids_.get(id); }
  bool is_known(uint32_t id) const { return known_[id] != 0; }
  bool is_erased(uint32_t id) const { return erased_[id] != 0; }

  // The canonical person of an id: the root of its identity cluster.
  uint32_t root(uint32_t id) const;
  // Joins the clusters of `from` and `to`. The root of `to` stays root unless
  // only `from`'s cluster has a known id. Returns the root that stopped being
  // a root, or kNoRoot when both were already one person.
  uint32_t link(uint32_t from, uint32_t to);
  static constexpr uint32_t kNoRoot = 0xFFFFFFFFu;
  // Every id whose root is `root`, ascending.
  std::vector<uint32_t> ids_of(uint32_t root) const;

  const std::vector<StoredProp>* traits_of(uint32_t root) const;
  void set_trait(uint32_t root, StoredProp trait);
  size_t persons_with_traits() const { return traits_.size(); }
  // Removes the cluster of `root` for good: its id strings and traits.
  void erase_person(uint32_t root);
  // Replaces a value string by a placeholder (keeping the numbering), so its
  // text is in no later catalog file: for values only a deleted person used.
  void erase_string(uint32_t id);
  // Every trait of every person: (root, traits).
  const std::unordered_map<uint32_t, std::vector<StoredProp>>& all_traits() const { return traits_; }

  const std::vector<CostRow>& costs() const { return costs_; }
  // Sets the cost of (day, channel, campaign); importing a costs file twice
  // leaves the same costs.
  void set_cost(const CostRow& row);

  std::string serialize() const;
  static Result<Catalog> parse(std::string_view payload, const std::string& what);

 private:
  StringPool ids_;
  std::vector<uint32_t> parent_;
  std::vector<uint8_t> known_;
  std::vector<uint8_t> erased_;
  std::unordered_map<uint32_t, std::vector<StoredProp>> traits_;
  std::vector<CostRow> costs_;
};

}  // namespace cairn
