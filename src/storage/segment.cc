#include "storage/segment.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "storage/binary_io.h"
#include "storage/codec.h"
#include "storage/file_util.h"
#include "storage/segment_format.h"
#include "storage/time_column.h"

namespace cairn {

namespace {

void put_chunk_ref(BinaryWriter& w, const ChunkRef& c) {
  w.put_varint(c.offset);
  w.put_varint(c.comp_size);
  w.put_varint(c.raw_size);
  w.put_u64(c.checksum);
}

ChunkRef get_chunk_ref(BinaryReader& r) {
  ChunkRef c;
  c.offset = r.get_varint();
  c.comp_size = r.get_varint();
  c.raw_size = r.get_varint();
  c.checksum = r.get_u64();
  return c;
}

void put_value(BinaryWriter& w, ValueType type, uint64_t bits) {
  switch (type) {
    case ValueType::kString:
      w.put_u8(kTagString);
      w.put_varint(bits);
      return;
    case ValueType::kBool:
      w.put_u8(bits ? kTagTrue : kTagFalse);
      return;
    case ValueType::kNumber: {
      double d;
      std::memcpy(&d, &bits, 8);
      if (d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9.0e15 && !(d == 0 && std::signbit(d))) {
        w.put_u8(kTagInteger);
        w.put_zigzag(static_cast<int64_t>(d));
      } else {
        w.put_u8(kTagDouble);
        w.put_f64(d);
      }
      return;
    }
  }
}

bool get_value(BinaryReader& r, StoredProp& p) {
  switch (r.get_u8()) {
    case kTagString:
      p.type = ValueType::kString;
      p.bits = r.get_varint();
      return r.ok();
    case kTagInteger: {
      p.type = ValueType::kNumber;
      const double d = static_cast<double>(r.get_zigzag());
      std::memcpy(&p.bits, &d, 8);
      return r.ok();
    }
    case kTagDouble: {
      p.type = ValueType::kNumber;
      const double d = r.get_f64();
      std::memcpy(&p.bits, &d, 8);
      return r.ok();
    }
    case kTagFalse:
      p.type = ValueType::kBool;
      p.bits = 0;
      return r.ok();
    case kTagTrue:
      p.type = ValueType::kBool;
      p.bits = 1;
      return r.ok();
    default:
      return false;
  }
}

class SegmentFileWriter {
 public:
  explicit SegmentFileWriter(std::string* out) : out_(out) {}
  // level 0 stores the bytes as they are (for data zstd cannot shrink,
  // such as message-id hashes); so does any chunk zstd would not make smaller.
  // A chunk is raw exactly when comp_size == raw_size.
  ChunkRef add_chunk(const std::string& raw, int level) {
    std::string comp;
    if (level > 0) comp = zstd_compress(raw, level);
    const std::string& stored = level > 0 && comp.size() < raw.size() ? comp : raw;
    ChunkRef ref{out_->size(), stored.size(), raw.size(), checksum64(stored)};
    out_->append(stored);
    return ref;
  }

 private:
  std::string* out_;
};

// Builds a segment file in memory block by block: blocks encoded from rows,
// or copied as they are stored in another segment of the same version.
class SegmentBuilder {
 public:
  SegmentBuilder() : chunks_(&file_) {
    BinaryWriter h;
    h.put_bytes(std::string_view(kSegmentMagic, 8));
    h.put_u32(kSegmentVersion);
    file_ = std::move(h.buffer());
  }

  // Encodes rows [begin, end) of set (sorted by person, time) as blocks of
  // kBlockRows rows or a little more (a block closes at a person boundary).
  void add_rows(const RowSet& set, size_t begin, size_t end) {
    const auto& rows = set.rows;
    while (begin < end) {
      size_t stop = std::min(end, begin + kBlockRows);
      while (stop < end && rows[stop].person == rows[stop - 1].person) ++stop;
      add_block(set, begin, stop);
      begin = stop;
    }
  }

  // Appends block `block` of source, whose stored bytes (its chunks, one
  // after another from `first`) are `stored`.
  void copy_block(const BlockInfo& source, uint64_t first, std::string_view stored) {
    BlockInfo b = source;
    const uint64_t at = file_.size();
    auto move = [&](ChunkRef& c) { c.offset = c.offset - first + at; };
    move(b.person);
    move(b.time);
    move(b.event);
    move(b.message);
    for (auto& [key, ref] : b.keys) move(ref);
    file_.append(stored);
    ++stats_.blocks_copied;
    add_info(std::move(b));
  }

  uint64_t rows() const { return stats_.rows; }

  Result<SegmentStats> finish(const std::string& path) {
    BinaryWriter footer;
    footer.put_varint(stats_.rows);
    footer.put_varint(blocks_.size());
    for (const BlockInfo& b : blocks_) {
      footer.put_varint(b.rows);
      footer.put_varint(b.persons);
      footer.put_varint(b.min_person);
      footer.put_varint(b.max_person);
      footer.put_zigzag(b.min_time);
      footer.put_zigzag(b.max_time);
      put_chunk_ref(footer, b.person);
      put_chunk_ref(footer, b.time);
      put_chunk_ref(footer, b.event);
      put_chunk_ref(footer, b.message);
      footer.put_varint(b.keys.size());
      for (const auto& [key, ref] : b.keys) {
        footer.put_varint(key);
        put_chunk_ref(footer, ref);
      }
    }
    const std::string footer_comp = zstd_compress(footer.buffer(), 3);
    BinaryWriter tail;
    tail.put_u64(file_.size());
    tail.put_u64(footer_comp.size());
    tail.put_u64(footer.size());
    tail.put_u64(checksum64(footer_comp));
    tail.put_bytes(std::string_view(kSegmentTailMagic, 8));
    file_ += footer_comp;
    file_ += tail.buffer();
    stats_.bytes = file_.size();
    CAIRN_RETURN_IF_ERROR(write_new_file(path, file_));
    return stats_;
  }

 private:
  // A block whose chunks are in file_: counted, and listed for the footer.
  void add_info(BlockInfo b) {
    stats_.rows += b.rows;
    stats_.core_bytes += b.core_bytes();
    if (blocks_.empty()) {
      stats_.min_time = b.min_time;
      stats_.max_time = b.max_time;
    } else {
      stats_.min_time = std::min(stats_.min_time, b.min_time);
      stats_.max_time = std::max(stats_.max_time, b.max_time);
    }
    blocks_.push_back(std::move(b));
  }

  // One block of rows [begin, end) (whole persons).
  void add_block(const RowSet& set, size_t begin, size_t end) {
    const auto& rows = set.rows;
    BlockInfo b;
    b.rows = static_cast<uint32_t>(end - begin);
    b.min_person = rows[begin].person;
    b.max_person = rows[end - 1].person;
    b.min_time = rows[begin].time;
    b.max_time = rows[begin].time;
    for (size_t i = begin; i < end; ++i) {
      b.min_time = std::min(b.min_time, rows[i].time);
      b.max_time = std::max(b.max_time, rows[i].time);
    }

    BinaryWriter person, event;
    std::vector<Micros> times;
    std::vector<uint32_t> runs;
    uint32_t prev_person = 0;
    for (size_t i = begin; i < end;) {
      size_t j = i;
      while (j < end && rows[j].person == rows[i].person) ++j;
      person.put_varint(rows[i].person - prev_person);
      person.put_varint(j - i);
      prev_person = rows[i].person;
      ++b.persons;
      runs.push_back(static_cast<uint32_t>(j - i));
      for (size_t k = i; k < j; ++k) times.push_back(rows[k].time);
      i = j;
    }
    for (size_t i = begin; i < end; ++i) event.put_varint(rows[i].event);
    b.person = chunks_.add_chunk(person.buffer(), 3);
    // Stored as it is: its own streams are compressed where that pays.
    b.time = chunks_.add_chunk(encode_time_column(times.data(), times.size(), runs, b.min_time), 0);
    b.event = chunks_.add_chunk(event.buffer(), 3);
    BinaryWriter message;
    for (size_t i = begin; i < end; ++i) message.put_u64(rows[i].message_hash);
    b.message = chunks_.add_chunk(message.buffer(), 0);

    // Property columns: one per key present in the block, in key order,
    // rows ascending; built in one pass over the rows, each value appended
    // to its key's column.
    used_keys_.clear();
    for (size_t i = begin; i < end; ++i) {
      const Row& r = rows[i];
      const uint32_t row = static_cast<uint32_t>(i - begin);
      for (uint32_t p = 0; p < r.prop_count; ++p) {
        const StoredProp& sp = set.props[r.prop_begin + p];
        if (sp.key >= column_of_.size()) column_of_.resize(sp.key + 1, kNoColumn);
        uint32_t c = column_of_[sp.key];
        if (c == kNoColumn) {
          c = static_cast<uint32_t>(used_keys_.size());
          column_of_[sp.key] = c;
          used_keys_.push_back(sp.key);
          if (columns_.size() <= c) columns_.emplace_back();
          columns_[c].body.clear();
          columns_[c].count = 0;
          columns_[c].prev = -1;
        }
        PropertyColumn& col = columns_[c];
        if (static_cast<int64_t>(row) == col.prev) continue;  // a key twice on one row: the first wins
        col.body.put_varint(static_cast<uint64_t>(static_cast<int64_t>(row) - col.prev - 1));
        col.prev = row;
        ++col.count;
        put_value(col.body, sp.type, sp.bits);
      }
    }
    std::sort(used_keys_.begin(), used_keys_.end());
    for (const uint32_t key : used_keys_) {
      PropertyColumn& pc = columns_[column_of_[key]];
      column_of_[key] = kNoColumn;
      BinaryWriter col;
      col.put_varint(pc.count);
      col.put_bytes(pc.body.buffer());
      b.keys.emplace_back(key, chunks_.add_chunk(col.buffer(), 1));
    }
    add_info(std::move(b));
  }

  std::string file_;
  SegmentFileWriter chunks_;
  SegmentStats stats_;
  std::vector<BlockInfo> blocks_;
  // The property columns of the block being written, reused from block to
  // block: column_of_ maps a key to its column (kNoColumn: none yet).
  struct PropertyColumn {
    BinaryWriter body;  // (row gap, value) pairs
    uint32_t count = 0;
    int64_t prev = -1;  // the last row written
  };
  static constexpr uint32_t kNoColumn = 0xFFFFFFFFu;
  std::vector<PropertyColumn> columns_;
  std::vector<uint32_t> column_of_;
  std::vector<uint32_t> used_keys_;
};

}  // namespace

Result<SegmentStats> write_segment(const std::string& path, const RowSet& set) {
  SegmentBuilder builder;
  builder.add_rows(set, 0, set.rows.size());
  return builder.finish(path);
}

Result<SegmentStats> write_segment_without(const std::string& path, const SegmentReader& source,
                                           const std::vector<uint32_t>& persons, RowSet& removed) {
  SegmentBuilder builder;
  RowSet block_rows, kept;
  std::string stored;
  for (size_t k = 0; k < source.blocks().size(); ++k) {
    const BlockInfo& b = source.blocks()[k];
    const auto first = std::lower_bound(persons.begin(), persons.end(), b.min_person);
    const bool holds = first != persons.end() && *first <= b.max_person;
    uint64_t begin = 0;
    if (!holds && source.version() == kSegmentVersion) {
      auto bytes = source.read_block_stored(k, stored, begin);
      if (!bytes) return bytes.status();
      if (*bytes) {
        builder.copy_block(b, begin, stored);
        continue;
      }
    }
    // Decoded and written again: a block holding some of the persons, a
    // block of an older version, or one whose chunks are not contiguous.
    block_rows.rows.clear();
    block_rows.props.clear();
    CAIRN_RETURN_IF_ERROR(source.read_rows(k, block_rows));
    kept.rows.clear();
    kept.props.clear();
    for (const Row& r : block_rows.rows) {
      if (std::binary_search(persons.begin(), persons.end(), r.person)) {
        removed.append(block_rows, r);
      } else {
        kept.append(block_rows, r);
      }
    }
    builder.add_rows(kept, 0, kept.rows.size());
  }
  if (builder.rows() == 0) return SegmentStats{};
  return builder.finish(path);
}

SegmentReader::SegmentReader(SegmentReader&& o) noexcept { *this = std::move(o); }

SegmentReader& SegmentReader::operator=(SegmentReader&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
    path_ = std::move(o.path_);
    file_size_ = o.file_size_;
    version_ = o.version_;
    rows_ = o.rows_;
    blocks_ = std::move(o.blocks_);
  }
  return *this;
}

SegmentReader::~SegmentReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<SegmentReader> SegmentReader::open(const std::string& path) {
  SegmentReader s;
  s.path_ = path;
  s.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (s.fd_ < 0) return Status::io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  s.file_size_ = static_cast<uint64_t>(::lseek(s.fd_, 0, SEEK_END));
  if (s.file_size_ < 12 + kSegmentTailSize)
    return Status::corruption(fmt::format("{}: file too short ({} bytes) at offset 0", path, s.file_size_));
  std::string head, tail_bytes;
  CAIRN_RETURN_IF_ERROR(pread_exact(s.fd_, path, 0, 12, head));
  if (head.substr(0, 8) != std::string_view(kSegmentMagic, 8))
    return Status::corruption(fmt::format("{}: bad magic at offset 0", path));
  s.version_ = BinaryReader(std::string_view(head).substr(8)).get_u32();
  if (s.version_ < kOldestSegmentVersion || s.version_ > kSegmentVersion)
    return Status::corruption(fmt::format(
        "{}: segment format version {} at offset 8, but this cairn reads versions {} to {} (re-import the data)", path,
        s.version_, kOldestSegmentVersion, kSegmentVersion));
  const uint64_t tail_off = s.file_size_ - kSegmentTailSize;
  CAIRN_RETURN_IF_ERROR(pread_exact(s.fd_, path, tail_off, kSegmentTailSize, tail_bytes));
  BinaryReader t(tail_bytes);
  const uint64_t foff = t.get_u64(), fcomp = t.get_u64(), fraw = t.get_u64(), fsum = t.get_u64();
  if (tail_bytes.substr(32, 8) != std::string_view(kSegmentTailMagic, 8) || foff + fcomp != tail_off ||
      fraw > (uint64_t{1} << 32))
    return Status::corruption(fmt::format("{}: bad tail at offset {}", path, tail_off));
  std::string fbytes;
  CAIRN_RETURN_IF_ERROR(pread_exact(s.fd_, path, foff, fcomp, fbytes));
  if (checksum64(fbytes) != fsum)
    return Status::corruption(fmt::format("{}: checksum mismatch in footer block at offset {}", path, foff));
  auto footer = zstd_decompress(fbytes, fraw);
  if (!footer) return Status::corruption(fmt::format("{}: footer at offset {}: {}", path, foff, footer.status().message()));
  BinaryReader r(*footer);
  s.rows_ = r.get_varint();
  const uint64_t nblocks = r.get_count(8);
  uint64_t total = 0;
  for (uint64_t i = 0; i < nblocks && r.ok(); ++i) {
    BlockInfo b;
    b.rows = static_cast<uint32_t>(r.get_varint());
    b.persons = static_cast<uint32_t>(r.get_varint());
    b.min_person = static_cast<uint32_t>(r.get_varint());
    b.max_person = static_cast<uint32_t>(r.get_varint());
    b.min_time = r.get_zigzag();
    b.max_time = r.get_zigzag();
    b.person = get_chunk_ref(r);
    b.time = get_chunk_ref(r);
    b.event = get_chunk_ref(r);
    b.message = get_chunk_ref(r);
    const uint64_t nkeys = r.get_count(8);
    for (uint64_t k = 0; k < nkeys && r.ok(); ++k) {
      const auto key = static_cast<uint32_t>(r.get_varint());
      b.keys.emplace_back(key, get_chunk_ref(r));
    }
    total += b.rows;
    s.blocks_.push_back(std::move(b));
  }
  if (!r.ok() || total != s.rows_)
    return Status::corruption(fmt::format("{}: malformed footer at offset {}", path, foff));
  return s;
}

uint64_t SegmentReader::core_bytes() const {
  uint64_t n = 0;
  for (const BlockInfo& b : blocks_) n += b.core_bytes();
  return n;
}

Result<std::string_view> SegmentReader::read_chunk(const ChunkRef& ref, size_t block, const char* column,
                                                  ChunkBuffers& buf) const {
  if (ref.offset + ref.comp_size > file_size_ || ref.raw_size > (uint64_t{1} << 32))
    return Status::corruption(
        fmt::format("{}: block {} column '{}' points outside the file at offset {}", path_, block, column, ref.offset));
  // pread into reused buffers: no fresh allocation (and page faults) per
  // chunk, and the process holds only the blocks it is decoding.
  CAIRN_RETURN_IF_ERROR(pread_exact(fd_, path_, ref.offset, ref.comp_size, buf.comp));
  const std::string_view comp(buf.comp);
  std::string& scratch = buf.raw;
  if (checksum64(comp) != ref.checksum)
    return Status::corruption(
        fmt::format("{}: checksum mismatch in block {} column '{}' at offset {}", path_, block, column, ref.offset));
  if (ref.comp_size == ref.raw_size) return comp;  // stored raw
  Status st = zstd_decompress_into(comp, ref.raw_size, scratch);
  if (!st.is_ok())
    return Status::corruption(fmt::format("{}: block {} column '{}' at offset {}: {}", path_, block, column, ref.offset, st.message()));
  return std::string_view(scratch);
}

Result<bool> SegmentReader::read_block_stored(size_t block, std::string& out, uint64_t& first) const {
  const BlockInfo& b = blocks_[block];
  std::vector<std::pair<const ChunkRef*, const char*>> refs{
      {&b.person, "person"}, {&b.time, "time"}, {&b.event, "event"}, {&b.message, "message"}};
  for (const auto& [key, ref] : b.keys) refs.emplace_back(&ref, "property");
  std::sort(refs.begin(), refs.end(), [](const auto& x, const auto& y) { return x.first->offset < y.first->offset; });
  first = refs.front().first->offset;
  uint64_t end = first;
  for (const auto& [ref, column] : refs) {
    if (ref->offset != end) return false;
    if (end > file_size_ || ref->comp_size > file_size_ - end)
      return Status::corruption(fmt::format("{}: block {} column '{}' points outside the file at offset {}", path_,
                                            block, column, ref->offset));
    end += ref->comp_size;
  }
  CAIRN_RETURN_IF_ERROR(pread_exact(fd_, path_, first, end - first, out));
  for (const auto& [ref, column] : refs)
    if (checksum64(std::string_view(out).substr(ref->offset - first, ref->comp_size)) != ref->checksum)
      return Status::corruption(
          fmt::format("{}: checksum mismatch in block {} column '{}' at offset {}", path_, block, column, ref->offset));
  return true;
}

Status SegmentReader::read_core(size_t block, BlockColumns& out) const {
  const BlockInfo& b = blocks_[block];
  auto person = read_chunk(b.person, block, "person", out.scratch[0]);
  if (!person) return person.status();
  auto time = read_chunk(b.time, block, "time", out.scratch[1]);
  if (!time) return time.status();
  auto event = read_chunk(b.event, block, "event", out.scratch[2]);
  if (!event) return event.status();
  auto bad = [&](const char* column) {
    return Status::corruption(fmt::format("{}: malformed column '{}' in block {}", path_, column, block));
  };
  // Hot: every scan decodes these three columns of every block it reads.
  // Varints decode from raw pointers, bounds checked once per value while
  // ten bytes remain.
  out.person.resize(out.person_per_row ? b.rows : 0);
  out.time.resize(b.rows);
  out.event.resize(b.rows);
  std::vector<uint32_t>& run_lengths = out.runs;
  run_lengths.clear();
  out.run_person.clear();
  {
    const auto* p = reinterpret_cast<const uint8_t*>(person->data());
    const auto* end = p + person->size();
    uint64_t prev = 0;
    size_t filled = 0;
    while (p < end) {
      uint64_t delta, n;
      if (!(p = get_varint_fast(p, end, delta)) || !(p = get_varint_fast(p, end, n)) || n == 0 || n > b.rows - filled)
        return bad("person");
      // Persons ascend: a later run's delta is at least 1, and ids fit 32 bits.
      if ((delta == 0 && !run_lengths.empty()) || delta > 0xFFFFFFFFu - prev) return bad("person");
      prev += delta;
      if (out.person_per_row) std::fill_n(out.person.data() + filled, n, static_cast<uint32_t>(prev));
      filled += n;
      run_lengths.push_back(static_cast<uint32_t>(n));
      out.run_person.push_back(static_cast<uint32_t>(prev));
    }
    if (filled != b.rows) return bad("person");
  }
  if (!decode_time_column(*time, b.min_time, run_lengths, b.rows, out.time.data(), out.time_scratch, version_))
    return bad("time");
  {
    const auto* p = reinterpret_cast<const uint8_t*>(event->data());
    const auto* end = p + event->size();
    uint32_t* e_out = out.event.data();
    // As many bytes as rows: one-byte ids (fewer than 128 event names), a
    // plain widening copy, if every byte ends its varint.
    const uint32_t rows = b.rows;
    uint8_t high = 0x80;  // some byte continues a varint (unless all are checked)
    if (event->size() == rows) {
      high = 0;
      for (uint32_t i = 0; i < rows; ++i) high |= p[i];
    }
    if (high < 0x80) {
      std::copy(p, end, e_out);
    } else if (!(p = get_varints_fast(p, end, e_out, rows)) || p != end) {
      return bad("event");
    }
  }
  return Status::ok();
}

Status SegmentReader::read_key(size_t block, size_t key_slot, KeyColumn& out) const {
  const BlockInfo& b = blocks_[block];
  const auto& [key, ref] = b.keys[key_slot];
  auto raw = read_chunk(ref, block, "property", out.scratch);
  if (!raw) return raw.status();
  BinaryReader r(*raw);
  const uint64_t n = r.get_count(2);
  out.rows.clear();
  out.values.clear();
  int64_t row = -1;
  for (uint64_t i = 0; i < n; ++i) {
    row += static_cast<int64_t>(r.get_varint()) + 1;
    StoredProp p{key, ValueType::kString, 0};
    if (!get_value(r, p) || row >= b.rows) break;
    out.rows.push_back(static_cast<uint32_t>(row));
    out.values.push_back(p);
  }
  if (!r.ok() || !r.at_end() || out.rows.size() != n)
    return Status::corruption(fmt::format("{}: malformed property column {} in block {}", path_, key, block));
  return Status::ok();
}

Status SegmentReader::read_rows(size_t block, RowSet& out) const {
  BlockColumns core;
  CAIRN_RETURN_IF_ERROR(read_core(block, core));
  const BlockInfo& b = blocks_[block];
  std::vector<uint32_t> count(b.rows + 1, 0);
  std::vector<KeyColumn> cols(b.keys.size());
  for (size_t k = 0; k < b.keys.size(); ++k) {
    CAIRN_RETURN_IF_ERROR(read_key(block, k, cols[k]));
    for (uint32_t row : cols[k].rows) ++count[row + 1];
  }
  for (uint32_t i = 0; i < b.rows; ++i) count[i + 1] += count[i];
  const size_t base = out.props.size();
  out.props.resize(base + count[b.rows]);
  std::vector<uint32_t> fill(count.begin(), count.end() - 1);
  for (const KeyColumn& col : cols)
    for (size_t i = 0; i < col.rows.size(); ++i) out.props[base + fill[col.rows[i]]++] = col.values[i];
  std::vector<uint64_t> hashes;
  CAIRN_RETURN_IF_ERROR(read_block_hashes(block, hashes));
  for (uint32_t i = 0; i < b.rows; ++i) {
    out.rows.push_back(Row{core.person[i], core.event[i], core.time[i], static_cast<uint32_t>(base + count[i]),
                           count[i + 1] - count[i], hashes[i]});
  }
  return Status::ok();
}

Status SegmentReader::read_block_hashes(size_t block, std::vector<uint64_t>& out) const {
  const BlockInfo& b = blocks_[block];
  ChunkBuffers scratch;
  auto raw = read_chunk(b.message, block, "message", scratch);
  if (!raw) return raw.status();
  if (raw->size() != uint64_t{b.rows} * 8)
    return Status::corruption(fmt::format("{}: malformed column 'message' in block {}", path_, block));
  BinaryReader r(*raw);
  out.clear();
  for (uint32_t i = 0; i < b.rows; ++i) out.push_back(r.get_u64());
  return Status::ok();
}

}  // namespace cairn
