// Time zones for the days, weeks and months of period buckets: UTC, fixed
// offsets and IANA zones ("Europe/Berlin") read from the system's TZif files
// (RFC 8536). libstdc++ 12 has no tzdb, hence this reader.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace cairn {

// A POSIX TZ string as in the footer of a TZif file, e.g.
// "CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0" or "<+0330>-3:30".
// Offsets here are seconds east of UTC: the string's sign is the other way
// round ("CET-1" is UTC+1).
struct PosixTz {
  // A change between standard and daylight time: a day of the year and a
  // local time of that day.
  struct Change {
    enum class Kind { kJulian, kZeroBased, kMonthWeekDay };
    Kind kind = Kind::kMonthWeekDay;
    int day = 0;    // kJulian: 1..365, Feb 29 never counted ("Jn"); kZeroBased: 0..365, Feb 29 counted ("n")
    int month = 0;  // kMonthWeekDay ("Mm.w.d"): month 1..12,
    int week = 0;   //   week 1..5 (5: the last in the month),
    int weekday = 0;  //   weekday 0..6 (Sunday 0)
    int32_t time = 2 * 3600;  // seconds after local midnight, -167h..167h (RFC 8536 allows beyond a day)
  };

  std::string std_name, dst_name;
  int32_t std_offset = 0;
  bool has_dst = false;
  int32_t dst_offset = 0;
  // Daylight time begins at `start` (given in local standard time) and ends
  // at `end` (given in local daylight time).
  Change start, end;

  // The offset (seconds east of UTC) in effect at a UTC instant in seconds.
  int32_t offset_at(int64_t utc_seconds) const;
};

// Parses a POSIX TZ string with RFC 8536's extensions (times of day from
// -167h to 167h). A daylight name without a rule gets the US rule
// ",M3.2.0,M11.1.0", as tzcode does.
Result<PosixTz> parse_posix_tz(std::string_view text);

class TimeZone {
 public:
  TimeZone() = default;  // UTC
  // A constant offset from UTC; `name` is how the query spelled it ("+02:00").
  static TimeZone fixed(Micros offset, std::string name);
  // The zone a POSIX TZ string describes, for all instants.
  static Result<TimeZone> from_posix_tz(std::string_view text);
  // Parses a TZif file held in memory (versions 1 to 4; from version 2 on the
  // 64-bit data and the footer). Damaged bytes give a corruption Status
  // naming `name`.
  static Result<TimeZone> from_tzif(std::string_view bytes, std::string name);
  // Loads the IANA zone `name` from `dir` (zoneinfo_dir() by default).
  // Errors: invalid_argument for a name that is not a zone name, not_found
  // for an unknown zone, corruption for a damaged file.
  static Result<TimeZone> load(std::string_view name, const std::string& dir);
  static Result<TimeZone> load(std::string_view name);
  // A query's spelling of a zone: "UTC" (also "Z", "Etc/UTC"), a fixed offset
  // "+hh:mm" / "-hh:mm" (at most 14 hours), or an IANA name. UTC and offsets
  // need no zone files.
  static Result<TimeZone> parse(std::string_view text);

  // The offset from UTC in effect at a UTC instant: local time = utc + offset.
  Micros offset_at(Micros utc) const;
  const std::string& name() const { return name_; }

 private:
  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;  // UTC seconds, strictly ascending
  std::vector<int32_t> offsets_;      // per transition: the offset from it on (seconds)
  int32_t initial_offset_ = 0;        // before the first transition (the TZif file's type 0)
  // After the last transition, or always when there are none: the footer's rule.
  std::optional<PosixTz> rule_;
};

// True for names made of [A-Za-z0-9_+-] parts joined by '/', so that a name
// can only ever open a file under the zone directory.
bool valid_zone_name(std::string_view name);

// The directory of TZif files: $TZDIR when set (as glibc reads it), else
// /usr/share/zoneinfo.
std::string zoneinfo_dir();

// The shared UTC zone, the default of every report.
std::shared_ptr<const TimeZone> utc_zone();

}  // namespace cairn
