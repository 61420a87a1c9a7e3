#include "storage/string_chunks.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/parallel.h"
#include "storage/binary_io.h"
#include "storage/codec.h"

namespace cairn {

namespace {

constexpr uint32_t kMaxPerChunk = uint32_t{1} << 20;
constexpr uint32_t kMaxIndexBits = 24;

// The index frame of a hash, and the 16 bits after the frame's in it.
uint64_t bucket_of(uint64_t h, uint32_t bits) { return bits == 0 ? 0 : h >> (64 - bits); }
uint16_t fingerprint_of(uint64_t h, uint32_t bits) { return static_cast<uint16_t>(h >> (48 - bits)); }

// Sorts a frame's entries (fingerprint << 16 | chunk), which come in chunk
// order, by fingerprint: two stable passes of 8 bits, which leave them in
// (fingerprint, chunk) order, as a sort of the whole values would, in a
// fraction of its time (the sorts took half of writing 23M strings' index).
void sort_by_fingerprint(uint32_t* e, size_t n, std::vector<uint32_t>& spare) {
  spare.resize(n);
  uint32_t* from = e;
  uint32_t* to = spare.data();
  for (const unsigned shift : {16u, 24u}) {
    size_t count[257] = {};
    for (size_t i = 0; i < n; ++i) ++count[((from[i] >> shift) & 0xFF) + 1];
    for (size_t d = 0; d < 256; ++d) count[d + 1] += count[d];
    for (size_t i = 0; i < n; ++i) to[count[(from[i] >> shift) & 0xFF]++] = from[i];
    std::swap(from, to);
  }
}

}  // namespace

std::string StringChunks::serialize(const StringPool& pool, unsigned threads, const StoredChunks* stored) {
  std::vector<uint64_t> hashes(pool.size());
  for (uint32_t i = 0; i < pool.size(); ++i) hashes[i] = checksum64(pool.get(i));
  return assemble(
      pool.size(), [&pool](uint64_t i) { return pool.get(static_cast<uint32_t>(i)); }, std::move(hashes), threads,
      stored);
}

Result<std::string> StringChunks::serialize_appended(const StringPool& tail, std::vector<uint64_t> stored_hashes,
                                                     unsigned threads) const {
  const uint64_t stored_count = dir_.count;
  if (dir_.per_chunk != kStringsPerChunk) return Status::invalid_argument("value strings chunked unlike a writer");
  auto stored = full_chunks();
  if (!stored) return stored.status();
  std::vector<uint64_t> hashes = std::move(stored_hashes);
  if (hashes.size() != stored_count) {
    hashes.assign(stored_count, 0);
    CAIRN_RETURN_IF_ERROR(scan([&hashes](uint32_t id, std::string_view s) { hashes[id] = checksum64(s); }));
  }
  hashes.resize(stored_count + tail.size());
  for (uint32_t j = 0; j < tail.size(); ++j) hashes[stored_count + j] = checksum64(tail.get(j));
  // The strings of the last stored chunk, if it is not full, are written
  // again with the new ones after them: read it (and keep it) now, so the
  // writing below cannot fail.
  const uint64_t first_made = stored->chunks() * uint64_t{dir_.per_chunk};
  if (first_made < stored_count) {
    auto c = chunk(static_cast<size_t>(first_made / dir_.per_chunk));
    if (!c) return c.status();
  }
  return assemble(
      stored_count + tail.size(),
      [&](uint64_t i) {
        return i < stored_count ? chunks_[static_cast<size_t>(i / dir_.per_chunk)]->strings[i % dir_.per_chunk]
                                : tail.get(static_cast<uint32_t>(i - stored_count));
      },
      std::move(hashes), threads, &*stored);
}

Status StringChunks::scan(const std::function<void(uint32_t id, std::string_view s)>& f) const {
  std::vector<std::string_view> strings;
  for (size_t k = 0; k < dir_.chunks(); ++k) {
    auto payload = frame(k, kStringsChunkMagic);
    if (!payload) return payload.status();
    const size_t count = static_cast<size_t>(std::min<uint64_t>(dir_.per_chunk, dir_.count - k * uint64_t{dir_.per_chunk}));
    if (!parse_chunk(*payload, count, strings))
      return Status::corruption(fmt::format("{}: malformed value strings chunk at offset {}", path_, frame_at_[k] + 32));
    for (size_t i = 0; i < count; ++i) f(static_cast<uint32_t>(k * uint64_t{dir_.per_chunk} + i), strings[i]);
  }
  return Status::ok();
}

std::string StringChunks::assemble(uint64_t n, const std::function<std::string_view(uint64_t)>& at,
                                   std::vector<uint64_t> hashes, unsigned threads, const StoredChunks* stored) {
  const uint32_t per = kStringsPerChunk;
  const size_t nchunks = static_cast<size_t>((n + per - 1) / per);
  threads = resolve_threads(threads);
  uint32_t bits = 0;
  while ((n >> bits) > kEntriesPerIndexFrame && bits < kMaxIndexBits) ++bits;
  const size_t nindex = size_t{1} << bits;
  std::vector<std::string> made(nchunks + nindex);
  std::vector<std::string_view> frames(nchunks + nindex);  // made, or stored's as they are
  const size_t copied = stored != nullptr && stored->per_chunk == per ? std::min(stored->chunks(), n / per) : 0;
  for (size_t k = 0; k < copied; ++k) frames[k] = stored->frame(k);
  (void)parallel_for(nchunks - copied, threads, [&](size_t c, unsigned) {
    const size_t k = copied + c;
    BinaryWriter w;
    const uint64_t end = std::min<uint64_t>(n, (k + 1) * uint64_t{per});
    for (uint64_t i = k * uint64_t{per}; i < end; ++i) w.put_string(at(i));
    made[k] = seal_file(std::string_view(kStringsChunkMagic, 8), w.buffer());
    frames[k] = made[k];
    return Status::ok();
  });
  // Index entries (fingerprint << 16 | chunk: with 2^16 strings a chunk, at
  // most 2^16 chunks), grouped by frame with a counting sort, sorted within
  // each frame.
  static_assert(uint64_t{kStringsPerChunk} << 16 > 0xFFFFFFFFu);
  std::vector<uint64_t> start(nindex + 1, 0);
  for (uint64_t i = 0; i < n; ++i) ++start[bucket_of(hashes[i], bits) + 1];
  for (size_t b = 0; b < nindex; ++b) start[b + 1] += start[b];
  std::vector<uint32_t> entries(n);
  {
    std::vector<uint64_t> fill(start.begin(), start.end() - 1);
    for (uint64_t i = 0; i < n; ++i)
      entries[fill[bucket_of(hashes[i], bits)]++] = uint32_t{fingerprint_of(hashes[i], bits)} << 16 | static_cast<uint32_t>(i / per);
  }
  hashes = {};
  std::vector<std::vector<uint32_t>> spare(threads);
  (void)parallel_for(nindex, threads, [&](size_t b, unsigned t) {
    sort_by_fingerprint(entries.data() + start[b], start[b + 1] - start[b], spare[t]);
    BinaryWriter w;
    w.put_varint(start[b + 1] - start[b]);
    uint64_t prev = 0;
    for (uint64_t e = start[b]; e < start[b + 1]; ++e) {
      w.put_varint((entries[e] >> 16) - prev);
      prev = entries[e] >> 16;
    }
    for (uint64_t e = start[b]; e < start[b + 1]; ++e) w.put_varint(entries[e] & 0xFFFFu);
    // Level 1: fingerprint gaps and chunk numbers hardly compress at any
    // level (45.4 MB at 1 and at 3 for 23M strings), and 1 takes half the time.
    made[nchunks + b] = seal_file(std::string_view(kStringsIndexMagic, 8), w.buffer(), 1);
    frames[nchunks + b] = made[nchunks + b];
    return Status::ok();
  });
  BinaryWriter d;
  d.put_varint(n);
  d.put_varint(per);
  d.put_varint(bits);
  d.put_varint(frames.size());
  for (const std::string_view f : frames) d.put_varint(f.size());
  std::string out = seal_file(std::string_view(kStringsDirMagic, 8), d.buffer());
  size_t total = out.size();
  for (const std::string_view f : frames) total += f.size();
  out.reserve(total);
  for (const std::string_view f : frames) out += f;
  return out;
}

bool StringChunks::parse_directory(std::string_view payload, StringsDirectory& out) {
  BinaryReader r(payload);
  out.count = r.get_varint();
  const uint64_t per = r.get_varint();
  const uint64_t bits = r.get_varint();
  if (!r.ok() || out.count > 0xFFFFFFFFu || per == 0 || per > kMaxPerChunk || bits > kMaxIndexBits) return false;
  out.per_chunk = static_cast<uint32_t>(per);
  out.index_bits = static_cast<uint32_t>(bits);
  const uint64_t nframes = r.get_count(1);
  if (!r.ok() || nframes != out.chunks() + (uint64_t{1} << bits)) return false;
  out.frame_bytes.resize(nframes);
  for (uint64_t& f : out.frame_bytes) {
    f = r.get_varint();
    if (f < 32) return false;  // a sealed frame has a 32-byte header
  }
  return r.ok() && r.at_end();
}

bool StringChunks::parse_chunk(std::string_view payload, size_t count, std::vector<std::string_view>& out) {
  BinaryReader r(payload);
  out.clear();
  if (count > payload.size()) return false;  // at least one byte a string
  out.reserve(count);
  for (size_t i = 0; i < count && r.ok(); ++i) out.push_back(r.get_string());
  return r.ok() && r.at_end();
}

bool StringChunks::parse_index(std::string_view payload, size_t chunks, std::vector<std::pair<uint16_t, uint32_t>>& out) {
  BinaryReader r(payload);
  out.clear();
  const uint64_t n = r.get_count(2);
  if (!r.ok()) return false;
  out.resize(n);
  uint64_t fp = 0;
  for (auto& e : out) {
    fp += r.get_varint();
    if (fp > 0xFFFF) return false;
    e.first = static_cast<uint16_t>(fp);
  }
  for (auto& e : out) {
    const uint64_t c = r.get_varint();
    if (c >= chunks) return false;
    e.second = static_cast<uint32_t>(c);
  }
  return r.ok() && r.at_end();
}

Result<std::unique_ptr<StringChunks>> StringChunks::open(std::string_view directory_payload, uint64_t frames_at,
                                                         uint64_t file_size, ReadAt read, std::string path) {
  std::unique_ptr<StringChunks> s(new StringChunks());
  if (!parse_directory(directory_payload, s->dir_))
    return Status::corruption(fmt::format("{}: malformed value strings directory before offset {}", path, frames_at));
  uint64_t at = frames_at;
  s->frame_at_.reserve(s->dir_.frame_bytes.size());
  for (uint64_t f : s->dir_.frame_bytes) {
    if (at > file_size || f > file_size - at)
      return Status::corruption(fmt::format("{}: value strings frame at offset {} runs past the end", path, at));
    s->frame_at_.push_back(at);
    at += f;
  }
  if (at != file_size)
    return Status::corruption(fmt::format("{}: {} bytes after the value strings at offset {}", path, file_size - at, at));
  s->chunks_.resize(s->dir_.chunks());
  s->read_ = std::move(read);
  s->path_ = std::move(path);
  return s;
}

Result<std::string> StringChunks::frame(size_t k, const char* magic) const {
  std::string bytes;
  CAIRN_RETURN_IF_ERROR(read_(frame_at_[k], static_cast<size_t>(dir_.frame_bytes[k]), bytes));
  return unseal_file(std::string_view(magic, 8), bytes, path_, frame_at_[k]);
}

Result<const StringChunks::Chunk*> StringChunks::chunk(size_t k) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (chunks_[k]) return chunks_[k].get();
  auto payload = frame(k, kStringsChunkMagic);
  if (!payload) return payload.status();
  auto c = std::make_unique<Chunk>();
  c->bytes = std::move(*payload);
  const size_t count = static_cast<size_t>(std::min<uint64_t>(dir_.per_chunk, dir_.count - k * uint64_t{dir_.per_chunk}));
  if (!parse_chunk(c->bytes, count, c->strings))
    return Status::corruption(fmt::format("{}: malformed value strings chunk at offset {}", path_, frame_at_[k] + 32));
  chunks_[k] = std::move(c);
  return chunks_[k].get();
}

Result<std::string_view> StringChunks::get(uint32_t id) const {
  if (id >= dir_.count) return Status::invalid_argument(fmt::format("value string {} out of range", id));
  auto c = chunk(id / dir_.per_chunk);
  if (!c) return c.status();
  return (*c)->strings[id % dir_.per_chunk];
}

Result<uint32_t> StringChunks::find(std::string_view s) const {
  const uint64_t h = checksum64(s);
  const size_t b = dir_.chunks() + static_cast<size_t>(bucket_of(h, dir_.index_bits));
  auto payload = frame(b, kStringsIndexMagic);
  if (!payload) return payload.status();
  std::vector<std::pair<uint16_t, uint32_t>> entries;
  if (!parse_index(*payload, dir_.chunks(), entries))
    return Status::corruption(fmt::format("{}: malformed value strings index at offset {}", path_, frame_at_[b] + 32));
  const uint16_t fp = fingerprint_of(h, dir_.index_bits);
  auto it = std::lower_bound(entries.begin(), entries.end(), std::pair<uint16_t, uint32_t>(fp, 0));
  for (uint32_t last = 0xFFFFFFFFu; it != entries.end() && it->first == fp; ++it) {
    if (it->second == last) continue;
    last = it->second;
    auto c = chunk(it->second);
    if (!c) return c.status();
    const std::vector<std::string_view>& strings = (*c)->strings;
    for (size_t i = 0; i < strings.size(); ++i)
      if (strings[i] == s) return static_cast<uint32_t>(it->second * uint64_t{dir_.per_chunk} + i);
  }
  return StringPool::kMissing;
}

Result<StoredChunks> StringChunks::full_chunks() const {
  StoredChunks out;
  out.per_chunk = dir_.per_chunk;
  const size_t full = static_cast<size_t>(dir_.count / dir_.per_chunk);
  std::string bytes;
  for (size_t k = 0; k < full; ++k) {
    CAIRN_RETURN_IF_ERROR(read_(frame_at_[k], static_cast<size_t>(dir_.frame_bytes[k]), bytes));
    CAIRN_RETURN_IF_ERROR(check_sealed(std::string_view(kStringsChunkMagic, 8), bytes, path_, frame_at_[k]));
    out.bytes += bytes;
    out.ends.push_back(out.bytes.size());
  }
  return out;
}

Status StringChunks::verify_index() const {
  std::vector<std::pair<uint16_t, uint32_t>> entries;
  for (size_t b = dir_.chunks(); b < frame_at_.size(); ++b) {
    auto payload = frame(b, kStringsIndexMagic);
    if (!payload) return payload.status();
    if (!parse_index(*payload, dir_.chunks(), entries))
      return Status::corruption(fmt::format("{}: malformed value strings index at offset {}", path_, frame_at_[b] + 32));
  }
  return Status::ok();
}

Status StringChunks::load_all(StringPool& pool) const {
  const size_t nchunks = dir_.chunks();
  std::vector<std::string> payloads(nchunks);
  CAIRN_RETURN_IF_ERROR(parallel_for(nchunks, resolve_threads(0), [&](size_t k, unsigned) -> Status {
    auto p = frame(k, kStringsChunkMagic);
    if (!p) return p.status();
    payloads[k] = std::move(*p);
    return Status::ok();
  }));
  // Room for an eighth more: a writer's next import appends its new values
  // without moving the views of these (a move copies them all into fresh
  // memory: 370 MB at 23M values, which costs more to fault in than to copy).
  pool.reserve(dir_.count + dir_.count / 8);
  std::vector<std::string_view> strings;
  for (size_t k = 0; k < nchunks; ++k) {
    const size_t count = static_cast<size_t>(std::min<uint64_t>(dir_.per_chunk, dir_.count - k * uint64_t{dir_.per_chunk}));
    const uint64_t at = frame_at_[k] + 32;
    if (!parse_chunk(pool.keep(std::move(payloads[k])), count, strings))
      return Status::corruption(fmt::format("{}: malformed value strings chunk at offset {}", path_, at));
    for (std::string_view s : strings) pool.append_view_unchecked(s);
  }
  return Status::ok();
}

}  // namespace cairn
