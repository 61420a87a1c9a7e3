// The value strings of a catalog in chunks (docs/FORMAT.md, "Value strings"):
// a directory part, then one sealed frame per chunk of kStringsPerChunk
// strings in id order, then an index of frames by hash of the text. A reader
// looks up a few strings by id (the values an answer names) or by text (a
// filter's values) by reading one chunk and one index frame, instead of
// decompressing and indexing every value (27M strings, 404 MB, at 100M
// simulated events).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/string_pool.h"

namespace cairn {

inline constexpr char kStringsDirMagic[] = "CAIRNSDX";
inline constexpr char kStringsChunkMagic[] = "CAIRNSCH";
inline constexpr char kStringsIndexMagic[] = "CAIRNSIX";

// The parsed directory part.
struct StringsDirectory {
  uint64_t count = 0;       // strings
  uint32_t per_chunk = 0;   // strings per chunk (the last may hold fewer)
  uint32_t index_bits = 0;  // 2^index_bits index frames, by the top bits of the hash
  std::vector<uint64_t> frame_bytes;  // each frame's length in the file: chunks, then index frames
  size_t chunks() const { return per_chunk == 0 ? 0 : static_cast<size_t>((count + per_chunk - 1) / per_chunk); }
};

// The sealed frames of a catalog file's full chunks, kept by a writer that
// read the file: strings only grow, so while none was replaced the next
// file's chunk k holds the same strings and its frame is copied instead of
// compressed again (at 23M strings, most of the value strings' writing).
struct StoredChunks {
  uint32_t per_chunk = 0;
  std::string bytes;         // the frames back to back, headers included
  std::vector<size_t> ends;  // where chunk k's frame ends in bytes
  size_t chunks() const { return ends.size(); }
  std::string_view frame(size_t k) const {
    const size_t begin = k == 0 ? 0 : ends[k - 1];
    return std::string_view(bytes).substr(begin, ends[k] - begin);
  }
};

class StringChunks {
 public:
  static constexpr uint32_t kStringsPerChunk = 65536;
  static constexpr uint32_t kEntriesPerIndexFrame = 16384;

  // The directory part (sealed) followed by every frame, for `pool`. Chunks
  // and index frames are compressed on `threads` threads (0: one per core).
  // With `stored` (frames of an earlier file whose strings are pool's first
  // ones), its full chunks are copied as they are.
  static std::string serialize(const StringPool& pool, unsigned threads = 0, const StoredChunks* stored = nullptr);

  // serialize() of this file's strings followed by tail's (a writer's new
  // values, when it did not load the stored ones): the full chunks' frames
  // are copied, and the stored strings are read chunk by chunk for the
  // index, none of them kept.
  // stored_hashes, when it has one per stored string, are their checksum64s
  // (kept from a scan() just before), and the stored strings are not read.
  Result<std::string> serialize_appended(const StringPool& tail, std::vector<uint64_t> stored_hashes,
                                         unsigned threads = 0) const;

  // Reads bytes [at, at + n) of the file into out.
  using ReadAt = std::function<Status(uint64_t at, size_t n, std::string& out)>;
  // A reader over frames that start at `frames_at` in a file of `file_size`
  // bytes (they must end exactly there); `path` names the file in errors.
  static Result<std::unique_ptr<StringChunks>> open(std::string_view directory_payload, uint64_t frames_at,
                                                    uint64_t file_size, ReadAt read, std::string path);

  uint64_t size() const { return dir_.count; }
  // The string with this id (id < size()); reads its chunk once. Views stay
  // valid for the life of this object. Thread-safe.
  Result<std::string_view> get(uint32_t id) const;
  // The id of s, or StringPool::kMissing. Thread-safe.
  Result<uint32_t> find(std::string_view s) const;
  // Every string, in id order, appended to pool (which keeps the chunks'
  // bytes); chunks are read and decompressed on one thread per core.
  Status load_all(StringPool& pool) const;

  // Every string with its id, in id order, a chunk at a time, none kept (a
  // writer's lookup of a small batch among millions of stored values).
  Status scan(const std::function<void(uint32_t id, std::string_view s)>& f) const;

  // The frames of the full chunks (each holding per_chunk strings) as they
  // are in the file, checksums checked, for serialize() to copy.
  Result<StoredChunks> full_chunks() const;

  // Reads and parses every index frame (chunks are checked by load_all).
  Status verify_index() const;

  // Payload parsers (exposed for the fuzzer): false when malformed.
  static bool parse_directory(std::string_view payload, StringsDirectory& out);
  static bool parse_chunk(std::string_view payload, size_t count, std::vector<std::string_view>& out);
  // An index frame: (fingerprint, chunk) per string of the frame's bucket;
  // chunks must be < `chunks`.
  static bool parse_index(std::string_view payload, size_t chunks, std::vector<std::pair<uint16_t, uint32_t>>& out);

 private:
  struct Chunk {
    std::string bytes;
    std::vector<std::string_view> strings;
  };
  StringChunks() = default;
  // The directory and frames of n strings, at(i) the i-th and hashes[i] its
  // checksum64; the full chunks of `stored` are copied.
  static std::string assemble(uint64_t n, const std::function<std::string_view(uint64_t)>& at,
                              std::vector<uint64_t> hashes, unsigned threads, const StoredChunks* stored);
  Result<std::string> frame(size_t k, const char* magic) const;
  Result<const Chunk*> chunk(size_t k) const;

  StringsDirectory dir_;
  std::vector<uint64_t> frame_at_;  // file offset of each frame
  ReadAt read_;
  std::string path_;
  mutable std::mutex mu_;
  mutable std::vector<std::unique_ptr<Chunk>> chunks_;
};

}  // namespace cairn
