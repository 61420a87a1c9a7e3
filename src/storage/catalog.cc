#include "storage/catalog.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "storage/binary_io.h"
#include "storage/codec.h"
#include "storage/file_util.h"

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

void Catalog::add_new_ids() {
  while (parent_.size() < ids_.size()) {  // new ids are their own roots, not known, not erased
    parent_.push_back(static_cast<uint32_t>(parent_.size()));
    known_.push_back(0);
    erased_.push_back(0);
  }
}

uint32_t Catalog::intern_id(std::string_view id, bool known) {
  persons();
  const uint32_t i = ids_.intern(id);
  add_new_ids();
  if (known) known_[i] = 1;
  return i;
}

void Catalog::intern_ids(const StringPool& src, const std::vector<uint8_t>& known, uint32_t* out) {
  persons();
  ids_.intern_all(src, out);
  add_new_ids();
  for (uint32_t i = 0; i < src.size(); ++i)
    if (i < known.size() && known[i]) known_[out[i]] = 1;
}

uint32_t Catalog::root(uint32_t id) const {
  if (id >= id_count()) return id;  // only when a lazily read persons part was damaged
  while (parent_[id] != id) id = parent_[id];
  return id;
}

uint32_t Catalog::link(uint32_t from, uint32_t to) {
  persons();
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
  persons();
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < parent_.size(); ++i)
    if (!erased_[i] && root(i) == r) out.push_back(i);
  return out;
}

const std::vector<StoredProp>* Catalog::traits_of(uint32_t r) const {
  persons();
  auto it = traits_.find(r);
  return it == traits_.end() ? nullptr : &it->second;
}

void Catalog::set_trait(uint32_t r, StoredProp trait) {
  persons();
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
  persons();
  for (uint32_t id : ids_of(r)) erased_[id] = 1;
  traits_.erase(r);
}

void Catalog::erase_string(uint32_t id) {
  strings().replace(id, erased_placeholder(id));
  values_replaced_ = true;  // a chunk of the file now holds a text the catalog no longer has
}

void Catalog::set_cost(const CostRow& row) {
  for (CostRow& c : costs_) {
    if (c.day == row.day && c.channel == row.channel && c.campaign == row.campaign) {
      c.cost = row.cost;
      return;
    }
  }
  costs_.push_back(row);
}

namespace {

constexpr char kNamesMagic[] = "CAIRNCAT";
constexpr char kStringsMagic[] = "CAIRNSTR";
constexpr char kIdsMagic[] = "CAIRNIDS";
constexpr char kTraitsMagic[] = "CAIRNTRT";

bool read_ids(BinaryReader& r, StringPool& ids, std::vector<uint32_t>& parent, std::vector<uint8_t>& known,
              std::vector<uint8_t>& erased) {
  const uint64_t nids = r.get_count(3);
  ids.reserve(nids + nids / 8);  // room for a later import's ids without moving these (see load_all)
  parent.resize(nids);
  known.resize(nids);
  erased.resize(nids);
  for (uint64_t i = 0; i < nids && r.ok(); ++i) {
    std::string_view s = r.get_string();
    const uint64_t p = r.get_varint();
    const uint8_t flags = r.get_u8();
    erased[i] = (flags >> 1) & 1;
    known[i] = flags & 1;
    if (p >= nids) return false;
    parent[i] = static_cast<uint32_t>(p);
    const std::string placeholder = erased[i] ? erased_placeholder(static_cast<uint32_t>(i)) : std::string();
    ids.append_unchecked(erased[i] ? std::string_view(placeholder) : s);
  }
  if (!r.ok()) return false;
  for (uint64_t i = 0; i < nids; ++i)  // roots must be roots
    if (parent[parent[i]] != parent[i]) return false;
  return true;
}

bool read_traits(BinaryReader& r, std::unordered_map<uint32_t, std::vector<StoredProp>>& traits) {
  const uint64_t ntraits = r.get_count(2);
  for (uint64_t i = 0; i < ntraits && r.ok(); ++i) {
    const auto root = static_cast<uint32_t>(r.get_varint());
    const uint64_t n = r.get_count(10);
    auto& list = traits[root];
    for (uint64_t k = 0; k < n && r.ok(); ++k) list.push_back(get_prop(r));
  }
  return r.ok();
}

bool read_costs(BinaryReader& r, std::vector<CostRow>& costs) {
  const uint64_t ncosts = r.get_count(11);
  for (uint64_t i = 0; i < ncosts && r.ok(); ++i) {
    CostRow row{};
    row.day = r.get_zigzag();
    row.channel = static_cast<uint32_t>(r.get_varint());
    row.campaign = static_cast<uint32_t>(r.get_varint());
    row.cost = r.get_f64();
    costs.push_back(row);
  }
  return r.ok();
}

// The (offset, length) of each sealed part of a catalog file of `size`
// bytes; header(at, out) reads the 32 header bytes at `at`.
// At most max_parts are split off (the chunked value strings' frames, after
// the first four parts, are found by their directory instead).
template <typename ReadHeader>
Result<std::vector<std::pair<size_t, size_t>>> split_parts(uint64_t size, const std::string& path, ReadHeader&& header,
                                                          size_t max_parts = SIZE_MAX) {
  std::vector<std::pair<size_t, size_t>> parts;
  uint64_t at = 0;
  std::string h;
  while (at < size && parts.size() < max_parts) {
    if (size - at < 32) return Status::corruption(fmt::format("{}: bad header at offset {}", path, at));
    CAIRN_RETURN_IF_ERROR(header(at, h));
    BinaryReader r(std::string_view(h).substr(16, 8));
    const uint64_t comp = r.get_u64();
    if (comp > size - at - 32) return Status::corruption(fmt::format("{}: size mismatch at offset {}", path, at + 16));
    parts.emplace_back(at, 32 + comp);
    at += 32 + comp;
  }
  if (parts.empty()) return Status::corruption(fmt::format("{}: bad header at offset 0", path));
  return parts;
}

Result<std::vector<std::pair<size_t, size_t>>> split_parts(std::string_view file, const std::string& path,
                                                          size_t max_parts = SIZE_MAX) {
  return split_parts(
      file.size(), path,
      [&](uint64_t at, std::string& h) {
        h.assign(file.substr(at, 32));
        return Status::ok();
      },
      max_parts);
}

// Whether a part (its bytes from the header on) has this magic.
bool has_magic(std::string_view header, const char* magic) { return header.substr(0, 8) == std::string_view(magic, 8); }

Status malformed(const std::string& path, const char* part, size_t offset) {
  return Status::corruption(fmt::format("{}: malformed catalog {} near offset {}", path, part, offset));
}

}  // namespace

std::string Catalog::serialize() const {
  persons();
  BinaryWriter n;
  put_pool(n, events);
  put_pool(n, keys);
  n.put_varint(costs_.size());
  for (const CostRow& c : costs_) {
    n.put_zigzag(c.day);
    n.put_varint(c.channel);
    n.put_varint(c.campaign);
    n.put_f64(c.cost);
  }
  BinaryWriter w;
  w.put_varint(ids_.size());
  for (uint32_t i = 0; i < ids_.size(); ++i) {
    w.put_string(erased_[i] ? std::string_view() : ids_.get(i));
    w.put_varint(root(i));
    w.put_u8(static_cast<uint8_t>(known_[i] | (erased_[i] << 1)));
  }
  BinaryWriter t;
  std::map<uint32_t, const std::vector<StoredProp>*> sorted;
  for (const auto& [r, list] : traits_) sorted.emplace(r, &list);
  t.put_varint(sorted.size());
  for (const auto& [r, list] : sorted) {
    t.put_varint(r);
    t.put_varint(list->size());
    for (const StoredProp& p : *list) put_prop(t, p);
  }
  // The ids (one zstd frame, a third of the time) are compressed on a
  // thread of their own while the value strings' chunks are. At zstd level
  // 1: random hex ids give level 3's longer searches nothing to find (the
  // 105M-event store's 154 MB of ids: 64.4 MB in 0.78 s, against 70.8 MB in
  // 1.40 s at level 3).
  std::string ids;
  std::thread seal_ids([&] { ids = seal_file(std::string_view(kIdsMagic, 8), w.buffer(), 1); });
  // The value strings. The full chunks of the file this catalog was opened
  // from are copied while no value was erased since: by serialize_appended
  // when the stored values were not loaded (a small import), else from the
  // loaded pool (a large import).
  auto values = [&]() -> Result<std::string> {
    if (const StringChunks* c = chunks()) {
      auto appended = c->serialize_appended(tail_, std::move(stored_hashes_));
      stored_hashes_.clear();
      return appended;
    }
    Result<StoredChunks> stored = StoredChunks{};
    if (!values_replaced_ && lazy_ && lazy_->chunks) stored = lazy_->chunks->full_chunks();
    if (!stored) return stored.status();
    std::string bytes = StringChunks::serialize(strings(), 0, &*stored);
    CAIRN_RETURN_IF_ERROR(lazy_status());  // the values could not be loaded
    return bytes;
  }();
  seal_ids.join();
  if (!values) {
    record(values.status());
    return {};
  }
  const std::string& value_strings = *values;
  // One buffer for the file (a sum of strings would allocate and fill a
  // new one per part: at 100M events, ~230 MB of fresh memory more).
  const std::string names = seal_file(std::string_view(kNamesMagic, 8), n.buffer());
  const std::string traits = seal_file(std::string_view(kTraitsMagic, 8), t.buffer());
  std::string out;
  out.reserve(names.size() + ids.size() + traits.size() + value_strings.size());
  out.append(names).append(ids).append(traits).append(value_strings);
  return out;
}

Result<Catalog> Catalog::parse(std::string_view names, std::string_view strings, std::string_view ids,
                               std::string_view traits, const std::string& what) {
  auto c = parse_without_strings(names, ids, traits, what);
  if (!c) return c.status();
  BinaryReader v(strings);
  if (!get_pool(v, c->strings_) || !v.at_end()) return malformed(what, "strings", v.position());
  return c;
}

Result<Catalog> Catalog::parse_without_strings(std::string_view names, std::string_view ids, std::string_view traits,
                                               const std::string& what) {
  Catalog c;
  BinaryReader n(names);
  if (!c.parse_names(n)) return malformed(what, "names", n.position());
  BinaryReader i(ids);
  if (!read_ids(i, c.ids_, c.parent_, c.known_, c.erased_) || !i.at_end()) return malformed(what, "ids", i.position());
  BinaryReader t(traits);
  if (!read_traits(t, c.traits_) || !t.at_end()) return malformed(what, "traits", t.position());
  return c;
}

namespace {

Result<std::string> unseal_part(std::string_view file, const std::vector<std::pair<size_t, size_t>>& parts, size_t part,
                                const char* magic, const std::string& path) {
  const auto [at, len] = parts[part];
  return unseal_file(std::string_view(magic, 8), file.substr(at, len), path, at);
}

}  // namespace

bool Catalog::parse_names(BinaryReader& n) {
  return get_pool(n, events) && get_pool(n, keys) && read_costs(n, costs_) && n.at_end();
}

Result<Catalog> Catalog::read(std::string file, const std::string& path) {
  const uint64_t bytes = file.size();
  auto c = read_whole(std::move(file), path);
  if (c) c->file_bytes_ = bytes;
  return c;
}

Result<Catalog> Catalog::read_whole(std::string file, const std::string& path) {
  auto parts = split_parts(file, path, 4);
  if (!parts) return parts.status();
  auto names = unseal_part(file, *parts, 0, kNamesMagic, path);
  if (!names) return names.status();
  if (parts->size() == 1) {  // a catalog written before it was split into parts: one payload
    Catalog c;
    BinaryReader r(*names);
    if (!get_pool(r, c.events) || !get_pool(r, c.keys) || !get_pool(r, c.strings_) ||
        !read_ids(r, c.ids_, c.parent_, c.known_, c.erased_) || !read_traits(r, c.traits_) || !read_costs(r, c.costs_) ||
        !r.at_end())
      return malformed(path, "payload", r.position());
    return c;
  }
  const bool chunked = parts->size() >= 2 && has_magic(std::string_view(file).substr((*parts)[1].first), kIdsMagic);
  const uint64_t end = parts->back().first + parts->back().second;
  if (parts->size() != 4 || (!chunked && end != file.size()))
    return Status::corruption(fmt::format("{}: {} parts, expected 4 at offset 0", path, parts->size()));
  auto ids = unseal_part(file, *parts, ids_part(chunked), kIdsMagic, path);
  if (!ids) return ids.status();
  auto traits = unseal_part(file, *parts, traits_part(chunked), kTraitsMagic, path);
  if (!traits) return traits.status();
  if (!chunked) {
    auto strings = unseal_part(file, *parts, 1, kStringsMagic, path);
    if (!strings) return strings.status();
    return parse(*names, *strings, *ids, *traits, path);
  }
  auto dir = unseal_part(file, *parts, 3, kStringsDirMagic, path);
  if (!dir) return dir.status();
  auto c = parse_without_strings(*names, *ids, *traits, path);
  if (!c) return c.status();
  const std::string_view bytes = file;
  auto chunks = StringChunks::open(
      *dir, end, file.size(),
      [bytes](uint64_t at, size_t n, std::string& out) {
        out.assign(bytes.substr(at, n));
        return Status::ok();
      },
      path);
  if (!chunks) return chunks.status();
  CAIRN_RETURN_IF_ERROR((*chunks)->load_all(c->strings_));
  return c;
}

Catalog::Lazy::~Lazy() {
  if (fd >= 0) ::close(fd);
}

Result<std::string> Catalog::lazy_part(const Lazy& lazy, size_t k, const char* magic) {
  const auto [at, len] = lazy.parts[k];
  std::string bytes;
  CAIRN_RETURN_IF_ERROR(pread_exact(lazy.fd, lazy.path, at, len, bytes));
  return unseal_file(std::string_view(magic, 8), bytes, lazy.path, at);
}

Result<Catalog> Catalog::open_lazy(const std::string& path) {
  auto lazy = std::make_unique<Lazy>();
  lazy->path = path;
  lazy->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (lazy->fd < 0) return Status::io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  const off_t size = ::lseek(lazy->fd, 0, SEEK_END);
  if (size < 0) return Status::io_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  lazy->size = static_cast<uint64_t>(size);
  const int fd = lazy->fd;
  std::vector<std::string> headers;
  auto parts = split_parts(
      static_cast<uint64_t>(size), path,
      [&](uint64_t at, std::string& h) {
        CAIRN_RETURN_IF_ERROR(pread_exact(fd, path, at, 32, h));
        headers.push_back(h);
        return Status::ok();
      },
      4);
  if (!parts) return parts.status();
  lazy->chunked = parts->size() == 4 && has_magic(headers[1], kIdsMagic) && has_magic(headers[3], kStringsDirMagic);
  const uint64_t end = parts->back().first + parts->back().second;
  if (!lazy->chunked && (parts->size() != 4 || end != lazy->size)) {
    // An older single-part catalog (read whole), or a malformed one: read() says which.
    std::string file;
    CAIRN_RETURN_IF_ERROR(pread_exact(fd, path, 0, static_cast<size_t>(size), file));
    return read(std::move(file), path);
  }
  lazy->parts = std::move(*parts);
  auto names = lazy_part(*lazy, 0, kNamesMagic);
  if (!names) return names.status();
  Catalog c;
  BinaryReader n(*names);
  if (!c.parse_names(n)) return malformed(path, "names", 32 + n.position());
  c.lazy_ = std::move(lazy);
  return c;
}

const StringChunks* Catalog::chunks() const {
  if (!lazy_ || !lazy_->chunked || lazy_->strings_loaded.load(std::memory_order_acquire)) return nullptr;
  Lazy& lazy = *lazy_;
  std::call_once(lazy.chunks_once, [&lazy] {
    auto dir = lazy_part(lazy, 3, kStringsDirMagic);
    if (!dir) {
      lazy.chunks_status = dir.status();
      return;
    }
    const int fd = lazy.fd;
    const std::string path = lazy.path;
    auto chunks = StringChunks::open(
        *dir, lazy.parts[3].first + lazy.parts[3].second, lazy.size,
        [fd, path](uint64_t at, size_t n, std::string& out) { return pread_exact(fd, path, at, n, out); }, path);
    if (!chunks)
      lazy.chunks_status = chunks.status();
    else
      lazy.chunks = std::move(*chunks);
  });
  if (!lazy.chunks_status.is_ok()) record(lazy.chunks_status);
  return lazy.chunks.get();
}

void Catalog::record(const Status& st) const {
  std::lock_guard<std::mutex> lock(lazy_->status_mu);
  if (lazy_->read_status.is_ok()) lazy_->read_status = st;
}

uint32_t Catalog::string_count() const {
  if (const StringChunks* c = chunks()) return static_cast<uint32_t>(c->size() + tail_.size());
  return strings().size();
}

std::string_view Catalog::string_at(uint32_t id) const {
  if (const StringChunks* c = chunks()) {
    if (id >= c->size()) {  // a value a writer interned since (or none)
      const uint64_t j = id - c->size();
      return j < tail_.size() ? tail_.get(static_cast<uint32_t>(j)) : std::string_view();
    }
    auto s = c->get(id);
    if (s) return *s;
    record(s.status());
    return {};
  }
  const StringPool& pool = strings();
  return id < pool.size() ? pool.get(id) : std::string_view();
}

uint32_t Catalog::find_string(std::string_view text) const {
  if (const StringChunks* c = chunks()) {
    auto id = c->find(text);
    if (!id) {
      record(id.status());
      return StringPool::kMissing;
    }
    if (*id != StringPool::kMissing) return *id;
    const uint32_t j = tail_.find(text);
    return j == StringPool::kMissing ? j : static_cast<uint32_t>(c->size() + j);
  }
  return strings().find(text);
}

Status Catalog::intern_strings(const StringPool& src, uint32_t* out) {
  // After a few batches (a WAL's replay, a server's stream of small ones),
  // loading and indexing the stored values once costs less than a pass each.
  constexpr uint32_t kMaxScans = 4;
  const StringChunks* c = chunks();
  if (c == nullptr || string_scans_ >= kMaxScans || uint64_t{src.size()} * 8 > c->size() + tail_.size()) {
    CAIRN_RETURN_IF_ERROR(load_strings());
    if (string_scans_ >= kMaxScans) {  // indexed now: the pool's own passes would come on top of these
      strings().intern_many(src.size(), [&](size_t i) { return src.get(static_cast<uint32_t>(i)); }, out);
    } else {
      strings().intern_all(src, out);
    }
    return lazy_status();
  }
  ++string_scans_;
  ScanLookup lookup(src, out);
  stored_hashes_.resize(c->size());
  CAIRN_RETURN_IF_ERROR(c->scan([&](uint32_t id, std::string_view s) {
    const uint64_t h = StringPool::hash_of(s);
    stored_hashes_[id] = h;
    lookup.see(id, s, h);
  }));
  const auto stored = static_cast<uint32_t>(c->size());
  for (uint32_t j = 0; j < tail_.size(); ++j) lookup.see(stored + j, tail_.get(j));
  lookup.finish([&](std::string_view s) { return stored + tail_.append_unchecked(s); });
  return Status::ok();
}

Status Catalog::read_strings(const Lazy& lazy) {
  if (lazy.chunked) {
    const StringChunks* c = chunks();
    if (!c) return lazy.chunks_status;
    if (Status st = c->load_all(strings_); !st.is_ok()) {
      strings_ = StringPool();
      return st;
    }
    for (uint32_t j = 0; j < tail_.size(); ++j) strings_.append_unchecked(tail_.get(j));
    tail_ = StringPool();
    lazy_->strings_loaded.store(true, std::memory_order_release);
    return Status::ok();
  }
  auto strings = lazy_part(lazy, 1, kStringsMagic);
  if (!strings) return strings.status();
  // The pool keeps the decompressed part and points into it: a million
  // values are not copied one by one.
  BinaryReader v(strings_.keep(std::move(*strings)));
  const uint64_t n = v.get_count(1);  // at most one string per remaining byte
  if (v.ok()) strings_.reserve(n);
  for (uint64_t i = 0; i < n && v.ok(); ++i) strings_.append_view_unchecked(v.get_string());
  if (!v.ok() || !v.at_end()) {
    strings_ = StringPool();
    return malformed(lazy.path, "strings", lazy.parts[1].first + 32);
  }
  lazy_->strings_loaded.store(true, std::memory_order_release);
  return Status::ok();
}

Status Catalog::read_persons(const Lazy& lazy) {
  auto ids = lazy_part(lazy, ids_part(lazy.chunked), kIdsMagic);
  if (!ids) return ids.status();
  auto traits = lazy_part(lazy, traits_part(lazy.chunked), kTraitsMagic);
  if (!traits) return traits.status();
  BinaryReader i(*ids);
  if (!read_ids(i, ids_, parent_, known_, erased_) || !i.at_end()) {
    ids_ = StringPool();
    parent_.clear();
    known_.clear();
    erased_.clear();
    return malformed(lazy.path, "ids", lazy.parts[ids_part(lazy.chunked)].first + 32);
  }
  BinaryReader t(*traits);
  if (!read_traits(t, traits_) || !t.at_end()) {
    traits_.clear();
    return malformed(lazy.path, "traits", lazy.parts[traits_part(lazy.chunked)].first + 32);
  }
  return Status::ok();
}

// The object itself is not const (a Store owns it): loading is a one-time
// cache fill that const readers trigger, once, from any thread.
Status Catalog::load_strings() const {
  if (!lazy_) return Status::ok();
  std::call_once(lazy_->strings_once, [this] { lazy_->strings_status = const_cast<Catalog*>(this)->read_strings(*lazy_); });
  return lazy_->strings_status;
}

Status Catalog::load_persons() const {
  if (!lazy_) return Status::ok();
  std::call_once(lazy_->persons_once, [this] { lazy_->persons_status = const_cast<Catalog*>(this)->read_persons(*lazy_); });
  return lazy_->persons_status;
}

Status Catalog::verify() const {
  CAIRN_RETURN_IF_ERROR(load_strings());
  CAIRN_RETURN_IF_ERROR(load_persons());
  if (lazy_ && lazy_->chunks) return lazy_->chunks->verify_index();
  return Status::ok();
}

Status Catalog::lazy_status() const {
  if (!lazy_) return Status::ok();
  // A load that never started has nothing to report; call_once on a flag
  // already run returns at once, so ask only through the loaders' results.
  if (!lazy_->strings_status.is_ok()) return lazy_->strings_status;
  if (!lazy_->persons_status.is_ok()) return lazy_->persons_status;
  std::lock_guard<std::mutex> lock(lazy_->status_mu);
  return lazy_->read_status;
}

}  // namespace cairn
