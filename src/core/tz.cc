#include "core/tz.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace cairn {

namespace {

constexpr int64_t kSecondsPerDay = 86'400;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// 0 = Sunday, as in POSIX "Mm.w.d"; 1970-01-01 was a Thursday.
int weekday_of(int64_t day) { return static_cast<int>((day % 7 + 7 + 4) % 7); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Text from a file or a query for an error message: short, without control
// bytes that would garble a terminal.
std::string printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 64; ++i) out += s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
  if (s.size() > 64) out += "...";
  return out;
}

// A recursive-descent reader of POSIX TZ strings.
class TzReader {
 public:
  explicit TzReader(std::string_view s) : s_(s) {}

  bool done() const { return pos_ == s_.size(); }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++pos_;
    return true;
  }

  // A zone abbreviation: three or more letters, or "<...>" of three or more
  // letters, digits, '+' and '-' (for names like "<+0330>").
  bool name(std::string& out) {
    const bool quoted = eat('<');
    const size_t begin = pos_;
    while (pos_ < s_.size() &&
           (is_alpha(s_[pos_]) || (quoted && (is_digit(s_[pos_]) || s_[pos_] == '+' || s_[pos_] == '-'))))
      ++pos_;
    out = std::string(s_.substr(begin, pos_ - begin));
    if (quoted && !eat('>')) return false;
    return out.size() >= 3;
  }

  // 1 to max_digits digits whose value is at most max.
  bool number(size_t max_digits, int max, int& out) {
    size_t n = 0;
    int v = 0;
    while (pos_ < s_.size() && is_digit(s_[pos_]) && n < max_digits) {
      v = v * 10 + (s_[pos_++] - '0');
      ++n;
    }
    if (n == 0 || v > max || (pos_ < s_.size() && is_digit(s_[pos_]))) return false;
    out = v;
    return true;
  }

  // [+-]hh[:mm[:ss]] in seconds, hours at most max_hours.
  bool hms(int max_hours, int32_t& out) {
    const bool negative = eat('-');
    if (!negative) eat('+');
    int h = 0, m = 0, sec = 0;
    if (!number(3, max_hours, h)) return false;
    if (eat(':')) {
      if (!number(2, 59, m)) return false;
      if (eat(':') && !number(2, 59, sec)) return false;
    }
    out = (h * 3600 + m * 60 + sec) * (negative ? -1 : 1);
    return true;
  }

  // Jn, n or Mm.w.d, then an optional /time.
  bool change(PosixTz::Change& c) {
    using Kind = PosixTz::Change::Kind;
    if (eat('J')) {
      c.kind = Kind::kJulian;
      if (!number(3, 365, c.day) || c.day < 1) return false;
    } else if (eat('M')) {
      c.kind = Kind::kMonthWeekDay;
      if (!number(2, 12, c.month) || c.month < 1 || !eat('.')) return false;
      if (!number(1, 5, c.week) || c.week < 1 || !eat('.')) return false;
      if (!number(1, 6, c.weekday)) return false;
    } else {
      c.kind = Kind::kZeroBased;
      if (!number(3, 365, c.day)) return false;
    }
    // RFC 8536 widens the time of day to -167h..167h (e.g. "M3.5.0/-1" in
    // America/Nuuk, "M9.1.6/24" in America/Santiago).
    if (eat('/') && !hms(167, c.time)) return false;
    return true;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// The day number of a change in year y.
int64_t change_day(int64_t y, const PosixTz::Change& c) {
  using Kind = PosixTz::Change::Kind;
  const int64_t jan1 = days_from_civil(y, 1, 1);
  switch (c.kind) {
    case Kind::kJulian:
      // Jn never counts Feb 29: J60 is always March 1.
      return jan1 + c.day - 1 + (is_leap_year(y) && c.day >= 60 ? 1 : 0);
    case Kind::kZeroBased:
      return jan1 + c.day;
    case Kind::kMonthWeekDay: {
      const auto month = static_cast<unsigned>(c.month);
      const int64_t first = days_from_civil(y, month, 1);
      int64_t d = first + (c.weekday - weekday_of(first) + 7) % 7 + 7 * (c.week - 1);
      // Week 5 means the last such weekday, which may be the fourth.
      while (d >= first + days_in_month(y, month)) d -= 7;
      return d;
    }
  }
  return jan1;
}

uint32_t be32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         static_cast<uint32_t>(p[3]);
}

int64_t be64(const unsigned char* p) {
  return static_cast<int64_t>(static_cast<uint64_t>(be32(p)) << 32 | be32(p + 4));
}

// RFC 8536 section 3.1.
constexpr size_t kHeaderSize = 44;

struct Counts {
  uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

// Reads the header at pos; returns what is wrong, or nullptr.
const char* read_header(std::string_view bytes, size_t pos, char& version, Counts& c) {
  if (bytes.size() < pos || bytes.size() - pos < kHeaderSize) return "the header is cut short";
  if (bytes.substr(pos, 4) != "TZif") return "not a TZif file (no \"TZif\" magic)";
  version = bytes[pos + 4];
  // Versions 2, 3 and 4 share the layout; later ones are expected to keep it.
  if (version != 0 && (version < '2' || version > '9')) return "unknown TZif version";
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + pos + 20);
  c = Counts{be32(p), be32(p + 4), be32(p + 8), be32(p + 12), be32(p + 16), be32(p + 20)};
  return nullptr;
}

// The size of a data block; 64-bit arithmetic, so counts near 2^32 cannot wrap.
uint64_t block_size(const Counts& c, uint64_t time_size) {
  return c.timecnt * time_size + c.timecnt + c.typecnt * uint64_t{6} + c.charcnt + c.leapcnt * (time_size + 4) +
         c.isstdcnt + c.isutcnt;
}

// Large enough for any real zone (the largest are a few kilobytes).
constexpr off_t kMaxTzifFile = 1 << 20;

}  // namespace

int32_t PosixTz::offset_at(int64_t utc) const {
  if (!has_dst) return std_offset;
  // The latest change at or before the instant. Changes of the years around
  // it are enough: a change lies at most 167h + 25h off its date, and the
  // same code serves northern rules (start before end in the year) and
  // southern ones (end before start).
  const int64_t year = civil_from_days(floor_div(utc, kSecondsPerDay)).y;
  int64_t latest = INT64_MIN;
  bool dst = false;
  for (int64_t y = year - 1; y <= year + 1; ++y) {
    const int64_t begin = change_day(y, start) * kSecondsPerDay + start.time - std_offset;
    const int64_t finish = change_day(y, end) * kSecondsPerDay + end.time - dst_offset;
    if (finish <= utc && finish > latest) {
      latest = finish;
      dst = false;
    }
    // On a tie daylight time wins: "EST5EDT,0/0,J365/25" is daylight time all
    // year, its end each year being the next start.
    if (begin <= utc && begin >= latest) {
      latest = begin;
      dst = true;
    }
  }
  return dst ? dst_offset : std_offset;
}

Result<PosixTz> parse_posix_tz(std::string_view text) {
  auto fail = [&](const char* what) {
    return Status::invalid_argument(fmt::format("POSIX TZ string \"{}\": {}", printable(text), what));
  };
  TzReader r(text);
  PosixTz tz;
  int32_t off = 0;
  if (!r.name(tz.std_name)) return fail("expected a zone abbreviation (3 or more letters, or <...>)");
  if (!r.hms(24, off)) return fail("expected the offset of standard time (like 5, -1 or -3:30)");
  tz.std_offset = -off;
  if (r.done()) return tz;
  if (!r.name(tz.dst_name)) return fail("expected a daylight time abbreviation (3 or more letters, or <...>)");
  tz.has_dst = true;
  tz.dst_offset = tz.std_offset + 3600;
  if (!r.done() && !r.peek(',')) {
    if (!r.hms(24, off)) return fail("expected the offset of daylight time (like 4 or -2)");
    tz.dst_offset = -off;
  }
  if (r.done()) {
    // No rule: tzcode's default, the US rule of 2007.
    tz.start = {PosixTz::Change::Kind::kMonthWeekDay, 0, 3, 2, 0, 2 * 3600};
    tz.end = {PosixTz::Change::Kind::kMonthWeekDay, 0, 11, 1, 0, 2 * 3600};
    return tz;
  }
  if (!r.eat(',') || !r.change(tz.start) || !r.eat(',') || !r.change(tz.end))
    return fail("expected the changes to and from daylight time (like \",M3.5.0,M10.5.0/3\")");
  if (!r.done()) return fail("unexpected text after the changes");
  return tz;
}

TimeZone TimeZone::fixed(Micros offset, std::string name) {
  TimeZone tz;
  tz.name_ = std::move(name);
  tz.initial_offset_ = static_cast<int32_t>(offset / kMicrosPerSecond);
  return tz;
}

Result<TimeZone> TimeZone::from_posix_tz(std::string_view text) {
  auto rule = parse_posix_tz(text);
  if (!rule) return rule.status();
  TimeZone tz;
  tz.name_ = std::string(text);
  tz.initial_offset_ = rule->std_offset;
  tz.rule_ = std::move(*rule);
  return tz;
}

Result<TimeZone> TimeZone::from_tzif(std::string_view bytes, std::string name) {
  auto fail = [&](const std::string& why) {
    return Status::corruption(fmt::format("time zone file {} is damaged: {}", name, why));
  };
  char version = 0;
  Counts c{};
  if (const char* err = read_header(bytes, 0, version, c)) return fail(err);
  size_t pos = kHeaderSize;
  uint64_t time_size = 4;
  // From version 2 on, the 32-bit block is only for old readers: skip it and
  // read the second header, the 64-bit block and the footer.
  if (version != 0) {
    const uint64_t v1 = block_size(c, 4);
    if (v1 > bytes.size() - pos) return fail("the version 1 data is cut short");
    pos += v1;
    char version2 = 0;
    if (const char* err = read_header(bytes, pos, version2, c)) return fail(fmt::format("second header: {}", err));
    if (version2 != version) return fail("the two headers give different versions");
    pos += kHeaderSize;
    time_size = 8;
  }
  const uint64_t size = block_size(c, time_size);
  if (size > bytes.size() - pos)
    return fail(fmt::format("the data is cut short ({} bytes needed, {} left)", size, bytes.size() - pos));
  // RFC 8536 section 3.2: at least one type and one designation byte; the
  // indicator arrays are absent or one per type.
  if (c.typecnt == 0) return fail("no local time types");
  if (c.charcnt == 0) return fail("no time zone designations");
  if (c.isstdcnt != 0 && c.isstdcnt != c.typecnt) return fail("standard/wall indicators do not match the types");
  if (c.isutcnt != 0 && c.isutcnt != c.typecnt) return fail("UT/local indicators do not match the types");

  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + pos);
  const unsigned char* times = p;
  const unsigned char* indices = times + c.timecnt * time_size;
  const unsigned char* types = indices + c.timecnt;
  const unsigned char* chars = types + c.typecnt * size_t{6};
  const unsigned char* leaps = chars + c.charcnt;
  const unsigned char* isstd = leaps + c.leapcnt * (time_size + 4);
  const unsigned char* isut = isstd + c.isstdcnt;

  TimeZone tz;
  std::vector<int32_t> type_offsets(c.typecnt);
  for (uint32_t i = 0; i < c.typecnt; ++i) {
    const unsigned char* t = types + size_t{6} * i;
    const auto utoff = static_cast<int32_t>(be32(t));
    // RFC 8536 asks for -25h < utoff < 26h; keeping to it keeps local times
    // (instant + offset) meaningful.
    if (utoff < -89999 || utoff > 93599) return fail(fmt::format("local time type {} has offset {} s", i, utoff));
    if (t[4] > 1) return fail(fmt::format("local time type {} has a daylight flag of {}", i, t[4]));
    if (t[5] >= c.charcnt || std::memchr(chars + t[5], 0, c.charcnt - t[5]) == nullptr)
      return fail(fmt::format("local time type {} has no designation", i));
    type_offsets[i] = utoff;
  }
  tz.transitions_.reserve(c.timecnt);
  tz.offsets_.reserve(c.timecnt);
  for (uint32_t i = 0; i < c.timecnt; ++i) {
    const int64_t t = time_size == 8 ? be64(times + 8 * size_t{i}) : static_cast<int32_t>(be32(times + 4 * size_t{i}));
    if (i > 0 && t <= tz.transitions_.back()) return fail(fmt::format("transition {} is not after the one before", i));
    if (indices[i] >= c.typecnt)
      return fail(fmt::format("transition {} has local time type {} of {}", i, indices[i], c.typecnt));
    tz.transitions_.push_back(t);
    tz.offsets_.push_back(type_offsets[indices[i]]);
  }
  for (uint32_t i = 0; i < c.isstdcnt; ++i)
    if (isstd[i] > 1) return fail("a standard/wall indicator is neither 0 nor 1");
  for (uint32_t i = 0; i < c.isutcnt; ++i)
    if (isut[i] > 1) return fail("a UT/local indicator is neither 0 nor 1");
  // The transition times of leap-second ("right/") zones count leap seconds;
  // event times are POSIX times that do not.
  if (c.leapcnt != 0)
    return Status::invalid_argument(
        fmt::format("time zone file {} has leap seconds (a \"right/\" zone); use the zone without \"right/\"", name));
  pos += size;

  if (time_size == 8) {
    // The footer: a newline, a POSIX TZ string (maybe empty), a newline.
    if (pos >= bytes.size() || bytes[pos] != '\n') return fail("the footer is missing");
    const size_t end = bytes.find('\n', pos + 1);
    if (end == std::string_view::npos) return fail("the footer is cut short");
    if (end + 1 != bytes.size()) return fail("unexpected bytes after the footer");
    const std::string_view footer = bytes.substr(pos + 1, end - pos - 1);
    // An empty footer leaves the last transition's type in effect.
    if (!footer.empty()) {
      auto rule = parse_posix_tz(footer);
      if (!rule) return fail(fmt::format("footer: {}", rule.status().message()));
      tz.rule_ = std::move(*rule);
    }
  } else if (pos != bytes.size()) {
    return fail("unexpected bytes after the data");
  }
  tz.initial_offset_ = type_offsets[0];
  tz.name_ = std::move(name);
  return tz;
}

bool valid_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.back() == '/') return false;
  char prev = 0;
  for (char ch : name) {
    const bool ok = is_alpha(ch) || is_digit(ch) || ch == '_' || ch == '+' || ch == '-' || ch == '/';
    // No '.' at all, so no "..", and no empty part ("a//b").
    if (!ok || (ch == '/' && prev == '/')) return false;
    prev = ch;
  }
  return true;
}

std::string zoneinfo_dir() {
  const char* dir = std::getenv("TZDIR");
  return dir != nullptr && dir[0] != '\0' ? dir : "/usr/share/zoneinfo";
}

Result<TimeZone> TimeZone::load(std::string_view name) { return load(name, zoneinfo_dir()); }

Result<TimeZone> TimeZone::load(std::string_view name, const std::string& dir) {
  if (!valid_zone_name(name))
    return Status::invalid_argument(fmt::format("\"{}\" is not a time zone name", printable(name)));
  const std::string path = dir + "/" + std::string(name);
  auto unknown = [&] {
    return Status::not_found(fmt::format("unknown time zone \"{}\" (no TZif file {})", name, path));
  };
  // O_NONBLOCK: a FIFO under the zone directory must not hang the query.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return unknown();
    return Status::io_error(fmt::format("{}: {}", path, std::strerror(errno)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::io_error(fmt::format("{}: {}", path, std::strerror(errno)));
  // A directory such as "America" is not a zone.
  if (!S_ISREG(st.st_mode)) return unknown();
  if (st.st_size > kMaxTzifFile) return Status::corruption(fmt::format("time zone file {} is too large", path));
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::io_error(fmt::format("{}: {}", path, std::strerror(errno)));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  bytes.resize(got);
  // The zone directory also holds text files ("leapseconds", "zone.tab").
  if (bytes.compare(0, 4, "TZif") != 0) return unknown();
  auto tz = from_tzif(bytes, path);
  if (!tz) return tz.status();
  tz->name_ = std::string(name);
  return tz;
}

Result<TimeZone> TimeZone::parse(std::string_view text) {
  if (text == "UTC" || text == "Z" || text == "Etc/UTC") return TimeZone();
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    // "+hh:mm" / "-hh:mm"; the widest offsets in use are -12h and +14h.
    auto digit = [&](size_t i) { return is_digit(text[i]) ? text[i] - '0' : -100; };
    if (text.size() == 6 && text[3] == ':') {
      const int h = digit(1) * 10 + digit(2), m = digit(4) * 10 + digit(5);
      if (h >= 0 && m >= 0 && h <= 14 && m <= 59) {
        const Micros off = (h * 3600 + m * 60) * kMicrosPerSecond;
        return fixed(text[0] == '-' ? -off : off, std::string(text));
      }
    }
    return Status::invalid_argument(fmt::format("\"{}\" is not an offset like \"+02:00\"", printable(text)));
  }
  return load(text);
}

Micros TimeZone::offset_at(Micros utc) const {
  // Whole seconds suffice (transitions are whole seconds), and comparing in
  // seconds cannot overflow for any instant.
  const int64_t s = floor_div(utc, kMicrosPerSecond);
  int32_t off = initial_offset_;
  if (transitions_.empty() || s < transitions_.front()) {
    // RFC 8536: type 0 before the first transition; with no transitions at
    // all the footer's rule holds for every instant.
    if (transitions_.empty() && rule_) off = rule_->offset_at(s);
  } else if (rule_ && s > transitions_.back()) {
    off = rule_->offset_at(s);
  } else {
    const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
    off = offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
  }
  return Micros{off} * kMicrosPerSecond;
}

std::shared_ptr<const TimeZone> utc_zone() {
  static const auto utc = std::make_shared<const TimeZone>();
  return utc;
}

}  // namespace cairn
