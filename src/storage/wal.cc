#include "storage/wal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "storage/binary_io.h"
#include "storage/codec.h"
#include "storage/file_util.h"

namespace cairn {

namespace {

constexpr char kFrameMagic[] = "CWAL";
constexpr size_t kFrameHeader = 33;
constexpr size_t kFrameTarget = 8 << 20;  // flush a frame at about 8 MiB raw

// Types 2 and 3 (events and properties with absolute times and 9-byte
// values) were written by earlier versions; they are refused by name.
enum FrameType : uint8_t {
  kPool = 1,
  kOldEvents = 2,
  kOldProps = 3,
  kLinks = 4,
  kTraits = 5,
  kCosts = 6,
  kCommit = 7,
  kEvents = 8,
  kProps = 9,
  kHashes = 10,
  kPartEnd = 11,
  kPersonEvents = 12,
  kOrderedTraits = 13
};
constexpr size_t kEventsPerFrame = 100000;
constexpr size_t kPropsPerFrame = 400000;

class WalWriter {
 public:
  WalWriter(int fd, std::string path, uint64_t seq) : fd_(fd), path_(std::move(path)), seq_(seq) {}

  // The body is LZ4 unless compress is false or LZ4 would not make it
  // smaller: then it is stored as it is (comp_size == raw_size).
  Status frame(FrameType type, const std::string& raw, bool compress = true) {
    const size_t packed = compress ? lz4_compress_into(raw, lz4_) : 0;
    const std::string_view comp =
        packed > 0 && packed < raw.size() ? std::string_view(lz4_.data(), packed) : std::string_view(raw);
    BinaryWriter h;
    h.put_bytes(std::string_view(kFrameMagic, 4));
    h.put_u8(type);
    h.put_u64(seq_);
    h.put_u32(static_cast<uint32_t>(comp.size()));
    h.put_u32(static_cast<uint32_t>(raw.size()));
    h.put_u64(checksum64(comp));
    h.put_u32(static_cast<uint32_t>(checksum64(h.buffer())));
    CAIRN_RETURN_IF_ERROR(write_all(h.buffer()));
    return write_all(comp);
  }

 private:
  Status write_all(std::string_view data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::io_error(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
      done += static_cast<size_t>(n);
    }
    return Status::ok();
  }
  int fd_;
  std::string path_;
  uint64_t seq_;
  std::string lz4_;  // the last frame's compressed body (its first bytes), the buffer reused
};

void put_typed(BinaryWriter& w, const TypedValue& v) {
  w.put_u8(static_cast<uint8_t>(v.type));
  w.put_u64(v.bits);
}

// A property's value in the events' frames: strings and booleans as one
// varint (bits << 2 | type), numbers as the varint 1 and the double's bits.
void put_prop_value(BinaryWriter& w, ValueType type, uint64_t bits) {
  if (type == ValueType::kNumber) {
    w.put_u8(static_cast<uint8_t>(ValueType::kNumber));
    w.put_u64(bits);
  } else {
    w.put_varint(bits << 2 | static_cast<uint64_t>(type));
  }
}

bool get_prop_value(BinaryReader& r, ValueType& type, uint64_t& bits) {
  const uint64_t x = r.get_varint();
  if ((x & 3) == static_cast<uint64_t>(ValueType::kNumber)) {
    if (x != static_cast<uint64_t>(ValueType::kNumber)) return false;
    type = ValueType::kNumber;
    bits = r.get_u64();
    return true;
  }
  if ((x & 3) == 3) return false;
  type = static_cast<ValueType>(x & 3);
  bits = x >> 2;
  return type != ValueType::kBool || bits <= 1;
}

TypedValue get_typed(BinaryReader& r) {
  TypedValue v;
  v.type = static_cast<ValueType>(r.get_u8() % 3);
  v.bits = r.get_u64();
  return v;
}

// One part's frames; `end` (kPartEnd or kCommit) closes it with its counts.
Status write_batch(WalWriter& out, const ImportBatch& b, FrameType end) {
  const StringPool* pools[] = {&b.ids, &b.event_names, &b.keys, &b.strings};
  // Frame bodies are built in writers reused from frame to frame: a new
  // 8 MiB buffer a frame would be fresh pages to fault in each time.
  BinaryWriter w, f;
  for (uint8_t which = 0; which < 4; ++which) {
    const StringPool& pool = *pools[which];
    uint32_t i = 0;
    do {  // at least one frame per pool, so replay knows each pool's start
      w.clear();
      w.put_u8(which);
      const uint32_t begin = i;
      size_t bytes = 0;
      uint32_t end = begin;
      while (end < pool.size() && bytes < kFrameTarget) bytes += pool.get(end++).size() + 2;
      w.put_varint(end - begin);
      for (uint32_t k = begin; k < end; ++k) {
        w.put_string(pool.get(k));
        if (which == 0) w.put_u8(k < b.id_is_known.size() ? b.id_is_known[k] : 0);
      }
      CAIRN_RETURN_IF_ERROR(out.frame(kPool, w.buffer()));
      i = end;
    } while (i < pool.size());
  }
  w.clear();
  // A frame of `count` items whose bytes are in body (emptied after).
  auto flush = [&](FrameType type, size_t count, BinaryWriter& body, bool compress = true) -> Status {
    f.clear();
    f.put_varint(count);
    f.put_bytes(body.buffer());
    body.clear();
    return out.frame(type, f.buffer(), compress);
  };
  // Events in frames of up to 100,000, column by column (LZ4 finds a
  // person's repeated ids next to each other), each followed by a frame of
  // their message hashes, stored as they are: random bytes LZ4 cannot shrink.
  const size_t total = b.events.size();
  for (size_t from = 0; from < total; from += kEventsPerFrame) {
    const size_t to = std::min(total, from + kEventsPerFrame);
    Micros prev_time = 0;
    for (size_t i = from; i < to; ++i) {
      const Micros t = b.events[i].time;
      w.put_zigzag(static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(prev_time)));
      prev_time = t;
    }
    for (size_t i = from; i < to; ++i) w.put_varint(b.events[i].person);
    for (size_t i = from; i < to; ++i) w.put_varint(b.events[i].event);
    for (size_t i = from; i < to; ++i) w.put_varint(b.events[i].prop_count);
    CAIRN_RETURN_IF_ERROR(flush(kPersonEvents, to - from, w));
    for (size_t i = from; i < to; ++i) w.put_u64(b.events[i].message_hash);
    CAIRN_RETURN_IF_ERROR(flush(kHashes, to - from, w, false));
  }
  // Properties in the events' order, in frames of up to 400,000: the keys,
  // then the values.
  BinaryWriter keys, values;
  size_t n = 0;
  uint64_t props = 0;
  auto flush_props = [&]() -> Status {
    keys.put_bytes(values.buffer());
    values.clear();
    const size_t count = n;
    n = 0;
    return flush(kProps, count, keys);
  };
  for (const BatchEvent& e : b.events) {
    for (uint32_t k = 0; k < e.prop_count; ++k) {
      const BatchProperty p = b.props[e.prop_begin + k];
      keys.put_varint(p.key);
      put_prop_value(values, p.type, p.bits);
      ++props;
      if (++n == kPropsPerFrame) CAIRN_RETURN_IF_ERROR(flush_props());
    }
  }
  if (n > 0) CAIRN_RETURN_IF_ERROR(flush_props());
  for (const BatchLink& l : b.links) {
    w.put_varint(l.from);
    w.put_varint(l.to);
  }
  CAIRN_RETURN_IF_ERROR(flush(kLinks, b.links.size(), w));
  for (const BatchTrait& t : b.traits) {
    w.put_varint(t.id);
    w.put_varint(t.key);
    put_typed(w, t.value);
    w.put_varint(std::min<uint64_t>(t.links_before, b.links.size()));
  }
  CAIRN_RETURN_IF_ERROR(flush(kOrderedTraits, b.traits.size(), w));
  for (const BatchCost& c : b.costs) {
    w.put_zigzag(c.day);
    w.put_varint(c.channel);
    w.put_varint(c.campaign);
    w.put_f64(c.cost);
  }
  CAIRN_RETURN_IF_ERROR(flush(kCosts, b.costs.size(), w));
  w.put_varint(b.events.size());
  w.put_varint(props);
  return out.frame(end, w.buffer());
}

// What replaying a record has read so far, beyond the batch.
struct ReplayState {
  uint64_t props_seen = 0;  // the sum of the events' property counts
  uint64_t hashed = 0;      // events whose message hashes have been read
};

// Reads one frame's body into batch. False when the body is malformed.
bool read_frame(FrameType type, BinaryReader& r, ImportBatch& b, ReplayState& st) {
  StringPool* pools[] = {&b.ids, &b.event_names, &b.keys, &b.strings};
  switch (type) {
    case kPool: {
      const uint8_t which = r.get_u8();
      if (which > 3) return false;
      const uint64_t n = r.get_count(1);
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        const std::string_view s = r.get_string();
        if (which == 0) {
          const bool known = r.get_u8() != 0;
          b.intern_id(s, known);
        } else {
          pools[which]->intern(s);
        }
      }
      return r.ok();
    }
    case kEvents:
    case kPersonEvents: {
      // The previous frame's hashes must have come (each events frame is
      // followed by its hashes frame).
      if (st.hashed != b.events.size()) return false;
      // An event takes at least a byte in each column: time, person (two
      // ids in the old frame), event, property count.
      const uint64_t n = r.get_count(type == kPersonEvents ? 4 : 5);
      std::vector<BatchEvent> evs(n);
      uint64_t time = 0;
      for (BatchEvent& e : evs) {
        time += static_cast<uint64_t>(r.get_zigzag());
        e.time = static_cast<Micros>(time);
      }
      if (type == kPersonEvents) {
        for (BatchEvent& e : evs) {
          const uint64_t p = r.get_varint();
          if (p >= b.ids.size()) return false;
          e.person = static_cast<uint32_t>(p);
        }
      } else {  // written before: the user id + 1 (0: none), then the anonymous id + 1
        for (BatchEvent& e : evs) {
          const uint64_t u = r.get_varint();
          if (u > b.ids.size()) return false;
          e.person = u == 0 ? kNoId : static_cast<uint32_t>(u - 1);
        }
        for (BatchEvent& e : evs) {
          const uint64_t a = r.get_varint();
          if (a > b.ids.size() || (a == 0 && e.person == kNoId)) return false;
          if (e.person == kNoId) e.person = static_cast<uint32_t>(a - 1);
        }
      }
      for (BatchEvent& e : evs) {
        const uint64_t ev = r.get_varint();
        if (ev >= b.event_names.size()) return false;
        e.event = static_cast<uint32_t>(ev);
      }
      for (BatchEvent& e : evs) {
        const uint64_t c = r.get_varint();
        if (c > UINT32_MAX || st.props_seen + c > UINT32_MAX) return false;
        e.prop_count = static_cast<uint32_t>(c);
        e.prop_begin = static_cast<uint32_t>(st.props_seen);
        st.props_seen += c;
      }
      if (!r.ok()) return false;
      for (const BatchEvent& e : evs) b.events.push_back(e);
      return true;
    }
    case kHashes: {
      const uint64_t n = r.get_count(8);
      if (!r.ok() || n != b.events.size() - st.hashed) return false;
      for (uint64_t i = 0; i < n && r.ok(); ++i) b.events[st.hashed + i].message_hash = r.get_u64();
      st.hashed += n;
      return r.ok();
    }
    case kProps: {
      const uint64_t n = r.get_count(2);
      std::vector<BatchProperty> ps(n);
      for (BatchProperty& p : ps) {
        const uint64_t key = r.get_varint();
        if (key >= b.keys.size()) return false;
        p.key = static_cast<uint32_t>(key);
      }
      for (BatchProperty& p : ps) {
        if (!get_prop_value(r, p.type, p.bits)) return false;
        if (p.type == ValueType::kString && p.bits >= b.strings.size()) return false;
      }
      if (!r.ok()) return false;
      for (const BatchProperty& p : ps) b.props.push_back(p);
      return true;
    }
    case kLinks: {
      const uint64_t n = r.get_count(2);
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        BatchLink l{static_cast<uint32_t>(r.get_varint()), static_cast<uint32_t>(r.get_varint())};
        if (l.from >= b.ids.size() || l.to >= b.ids.size()) return false;
        b.links.push_back(l);
      }
      return r.ok();
    }
    case kTraits:
    case kOrderedTraits: {  // 5, written before: each trait after all the part's links
      const bool ordered = type == kOrderedTraits;
      const uint64_t n = r.get_count(ordered ? 12 : 11);
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        BatchTrait t{};
        t.id = static_cast<uint32_t>(r.get_varint());
        t.key = static_cast<uint32_t>(r.get_varint());
        t.value = get_typed(r);
        const uint64_t before = ordered ? r.get_varint() : b.links.size();
        if (t.id >= b.ids.size() || t.key >= b.keys.size() ||
            (t.value.type == ValueType::kString && t.value.bits >= b.strings.size()) || before > b.links.size())
          return false;
        t.links_before = static_cast<uint32_t>(before);
        b.traits.push_back(t);
      }
      return r.ok();
    }
    case kCosts: {
      const uint64_t n = r.get_count(11);
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        BatchCost c{};
        c.day = r.get_zigzag();
        c.channel = static_cast<uint32_t>(r.get_varint());
        c.campaign = static_cast<uint32_t>(r.get_varint());
        c.cost = r.get_f64();
        if (c.channel >= b.strings.size() || c.campaign >= b.strings.size()) return false;
        b.costs.push_back(c);
      }
      return r.ok();
    }
    default:
      return false;
  }
}

}  // namespace

Status wal_append(const std::string& path, uint64_t seq, std::span<const ImportBatch> parts, bool commit) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  WalWriter w(fd, path, seq);
  const ImportBatch none;
  if (parts.empty() && commit) parts = std::span<const ImportBatch>(&none, 1);  // a record, though empty
  Status st;
  for (size_t k = 0; k < parts.size() && st.is_ok(); ++k)
    st = write_batch(w, parts[k], commit && k + 1 == parts.size() ? kCommit : kPartEnd);
  if (st.is_ok() && ::fsync(fd) != 0) st = Status::io_error(fmt::format("cannot fsync {}: {}", path, std::strerror(errno)));
  ::close(fd);
  if (st.is_ok()) st = fsync_dir(std::filesystem::path(path).parent_path().string());
  return st;
}

namespace {

// The log's bytes, mapped (a log of an import in rounds can be gigabytes).
class MappedLog {
 public:
  ~MappedLog() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  Status open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return Status::io_error(fmt::format("cannot read {}: {}", path, std::strerror(err)));
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (m == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        size_ = 0;
        return Status::io_error(fmt::format("cannot map {}: {}", path, std::strerror(err)));
      }
      data_ = m;
    }
    ::close(fd);
    return Status::ok();
  }
  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

Status wal_replay(const std::string& path, const std::function<Status(uint64_t, ImportBatch&, bool)>& apply,
                  uint64_t round_events) {
  MappedLog mapped;
  CAIRN_RETURN_IF_ERROR(mapped.open(path));
  const std::string_view log = mapped.bytes();
  // Where the log's zero-filled tail starts (log.size() when it has none). A
  // crash can leave the file's new size saved and its last pages unwritten,
  // as zeros: a frame that runs into them was never acknowledged, since the
  // commit frame after it is missing too.
  const size_t zeros_from = [&] {
    const size_t last = log.find_last_not_of('\0');
    return last == std::string::npos ? 0 : last + 1;
  }();
  struct Frame {
    size_t pos;
    FrameType type;
    uint64_t seq;
    uint32_t comp, raw;
    std::string_view body;
  };
  enum class Read { kFrame, kTorn };
  // The frame at pos: kTorn for a write that never finished (the log ends,
  // or its zero-filled tail starts, inside it), an error for damage.
  auto frame_at = [&](size_t pos, Frame& f) -> Result<Read> {
    const size_t left = log.size() - pos;
    const std::string_view rest = log.substr(pos);
    if (pos >= zeros_from) return Read::kTorn;     // the rest is the zero-filled tail
    if (left < kFrameHeader) return Read::kTorn;   // torn tail: never acknowledged
    BinaryReader h(rest.substr(0, kFrameHeader));
    f.pos = pos;
    h.get_u32();
    f.type = static_cast<FrameType>(h.get_u8());
    f.seq = h.get_u64();
    f.comp = h.get_u32();
    f.raw = h.get_u32();
    const uint64_t sum = h.get_u64();
    const uint32_t header_sum = h.get_u32();
    if (rest.substr(0, 4) != std::string_view(kFrameMagic, 4) ||
        header_sum != static_cast<uint32_t>(checksum64(rest.substr(0, kFrameHeader - 4)))) {
      if (zeros_from < pos + kFrameHeader) return Read::kTorn;  // zeros from inside the header on
      return Status::corruption(fmt::format("{}: checksum mismatch in frame header at offset {}", path, pos));
    }
    if (left - kFrameHeader < f.comp) return Read::kTorn;  // the record never committed
    f.body = rest.substr(kFrameHeader, f.comp);
    if (checksum64(f.body) != sum) {
      // Torn when the body runs into the zero-filled tail; a commit frame
      // is the record's last, so a bad one is damage, not a torn write.
      if (f.type != kCommit && zeros_from < pos + kFrameHeader + f.comp) return Read::kTorn;
      return Status::corruption(fmt::format("{}: checksum mismatch in frame at offset {}", path, pos));
    }
    return Read::kFrame;
  };
  std::vector<Frame> frames;
  size_t pos = 0;
  while (pos < log.size()) {
    // One record: frames up to and including a commit frame. All of them
    // are found and checked first: a record whose commit never came (a
    // torn write, an import in rounds cut short) is dropped before any of it
    // is applied.
    const size_t record_start = pos;
    frames.clear();
    for (;;) {
      Frame f;
      auto read = frame_at(pos, f);
      if (!read) return read.status();
      if (*read == Read::kTorn) return Status::ok();
      if (!frames.empty() && f.seq != frames[0].seq)
        return Status::corruption(fmt::format("{}: frame at offset {} belongs to another record", path, pos));
      frames.push_back(f);
      pos += kFrameHeader + f.comp;
      if (f.type == kCommit) break;
    }
    // Then applied: in rounds of about round_events events (whole parts),
    // the last one with the commit.
    const uint64_t seq = frames[0].seq;
    ImportBatch batch, part;  // the round so far, the part being read
    ReplayState state;
    for (const Frame& f : frames) {
      // A body as long as its raw size is stored as it is.
      std::string unpacked;
      if (f.comp != f.raw) {
        auto bytes = lz4_decompress(f.body, f.raw);
        if (!bytes)
          return Status::corruption(fmt::format("{}: frame at offset {}: {}", path, f.pos, bytes.status().message()));
        unpacked = std::move(*bytes);
      }
      BinaryReader r(f.comp != f.raw ? std::string_view(unpacked) : f.body);
      if (f.type == kOldEvents || f.type == kOldProps)
        return Status::corruption(fmt::format(
            "{}: frame at offset {} is of type {}, written by an earlier version of cairn: apply this log with that "
            "version (open the database once), then upgrade",
            path, f.pos, static_cast<int>(f.type)));
      if (f.type == kCommit || f.type == kPartEnd) {
        const uint64_t events = r.get_varint(), props = r.get_varint();
        if (!r.ok() || !r.at_end() || events != part.events.size() || props != part.props.size() ||
            state.props_seen != props || state.hashed != events)
          return Status::corruption(fmt::format("{}: record at offset {} does not match its commit", path, record_start));
        // The parts of a record are applied as their concatenation.
        batch.append(std::move(part));
        part = ImportBatch();
        state = ReplayState();
        const bool committed = f.type == kCommit;
        if (committed || batch.events.size() >= round_events) {
          CAIRN_RETURN_IF_ERROR(apply(seq, batch, committed));
          batch = ImportBatch();
        }
      } else if (!read_frame(f.type, r, part, state) || !r.at_end()) {
        return Status::corruption(fmt::format("{}: malformed frame at offset {}", path, f.pos));
      }
    }
  }
  return Status::ok();
}

}  // namespace cairn
