// CSV input: events, contacts and costs. RFC 4180: comma separated, fields
// may be quoted with "" as an escaped quote and may then hold commas and
// newlines; the first record is the header. A field is quoted only when it
// starts with a quote; a quote elsewhere is a character, and a quoted field
// must end at its closing quote (docs/FORMAT.md). RecordReader finds where a
// record ends by the same rule, so the two agree on every record.
#include <cstring>

#include <fmt/format.h>

#include "core/text_scan.h"
#include "ingest/parse_internal.h"

namespace cairn {

namespace {

// Splits one record into fields, quoted or not (split_csv below tries the
// quick split_plain_csv first). Views point into the record, or into `row`
// storage when a field had escaped quotes. Returns an error message for a
// malformed quoted field.
bool split_quoted_csv(std::string_view rec, PendingRow& row, std::vector<std::string_view>& fields,
                      std::string& error) {
  fields.clear();
  size_t i = 0;
  const size_t n = rec.size();
  for (;;) {
    if (i < n && rec[i] == '"') {
      const size_t start = ++i;
      bool escaped = false;
      for (;;) {
        if (i >= n) {
          error = fmt::format("field {} has an opening quote without a closing one", fields.size() + 1);
          return false;
        }
        if (rec[i] == '"') {
          if (i + 1 < n && rec[i + 1] == '"') {
            escaped = true;
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      std::string_view raw = rec.substr(start, i - start);
      ++i;  // closing quote
      if (i < n && rec[i] != ',') {
        error = fmt::format("field {} has text after its closing quote", fields.size() + 1);
        return false;
      }
      if (escaped) {
        std::string s;
        s.reserve(raw.size());
        for (size_t k = 0; k < raw.size(); ++k) {
          s += raw[k];
          if (raw[k] == '"') ++k;
        }
        raw = row.own(std::move(s));
      }
      fields.push_back(raw);
    } else {
      // Not quoted: a quote in it is a character like the others.
      size_t j = i;
      while (j < n && rec[j] != ',') ++j;
      fields.push_back(rec.substr(i, j - i));
      i = j;
    }
    if (i >= n) return true;
    ++i;  // comma
  }
}

// Any record: most quote nothing, and their fields are what lies between
// commas.
bool split_csv(std::string_view rec, PendingRow& row, std::vector<std::string_view>& fields, std::string& error) {
  fields.clear();
  return split_plain_csv(rec, fields) || split_quoted_csv(rec, row, fields, error);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

enum class Role { kProperty, kUser, kAnonymous, kTime, kEvent, kMessage, kRevenue, kId, kDate, kChannel, kCampaign, kCost };

struct Column {
  std::string name;
  Role role = Role::kProperty;
};

class CsvParser {
 public:
  CsvParser(ParseContext& ctx) : ctx_(ctx) {}

  Status run() {
    bool header_done = false;
    bool header_bad = false;
    CAIRN_RETURN_IF_ERROR(for_each_record(ctx_, /*csv=*/true, [&](const Record& rec) {
      if (rec.text.empty()) return true;
      if (!header_done) {
        header_done = true;
        header_bad = !read_header(rec);
        return !header_bad;  // after a bad header (reported) no row can be read
      }
      row_.clear();
      if (parse_row(rec)) row_.commit(ctx_.batch);
      return true;
    }));
    if (header_bad) return Status::ok();
    if (!header_done && !ctx_.header_is_copy)
      ctx_.errors.add(row_error(ctx_.name, 1, "", "the file is empty (no header row)", ""));
    return Status::ok();
  }

 private:
  bool header_error(const Record& rec, std::string msg) {
    if (ctx_.header_is_copy) return false;
    RowError e = row_error(ctx_.name, rec.line, "", "header: " + msg, rec.text);
    e.whole_file = true;
    ctx_.errors.add(std::move(e));
    return false;
  }

  bool read_header(const Record& rec) {
    std::string err;
    if (!split_csv(rec.text, row_, fields_, err)) return header_error(rec, err);
    columns_.clear();
    for (std::string_view f : fields_) {
      Column c;
      c.name = std::string(trim(f));
      columns_.push_back(std::move(c));
    }
    auto claim = [&](std::initializer_list<std::string_view> names, Role role) -> int {
      for (std::string_view want : names)
        for (size_t i = 0; i < columns_.size(); ++i)
          if (columns_[i].role == Role::kProperty && columns_[i].name == want) {
            columns_[i].role = role;
            return static_cast<int>(i);
          }
      return -1;
    };
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].name.empty()) return header_error(rec, fmt::format("column {} has no name", i + 1));
      for (size_t j = 0; j < i; ++j)
        if (columns_[j].name == columns_[i].name)
          return header_error(rec, fmt::format("column '{}' appears twice", columns_[i].name));
    }
    switch (ctx_.kind) {
      case InputKind::kEvents: {
        const int user = claim({"user_id", "person", "userId"}, Role::kUser);
        const int anon = claim({"anonymous_id", "anonymousId"}, Role::kAnonymous);
        if (user < 0 && anon < 0)
          return header_error(rec, "a person column is missing (need user_id, person or anonymous_id)");
        if (claim({"timestamp", "time"}, Role::kTime) < 0) return header_error(rec, "column 'timestamp' is missing");
        if (claim({"event"}, Role::kEvent) < 0) return header_error(rec, "column 'event' is missing");
        claim({"message_id", "messageId"}, Role::kMessage);
        claim({"revenue"}, Role::kRevenue);
        break;
      }
      case InputKind::kContacts:
        if (claim({"user_id", "person", "id", "userId"}, Role::kId) < 0)
          return header_error(rec, "an id column is missing (need user_id, person or id)");
        break;
      case InputKind::kCosts:
        if (claim({"date", "day"}, Role::kDate) < 0) return header_error(rec, "column 'date' is missing");
        if (claim({"channel"}, Role::kChannel) < 0) return header_error(rec, "column 'channel' is missing");
        if (claim({"campaign"}, Role::kCampaign) < 0) return header_error(rec, "column 'campaign' is missing");
        if (claim({"cost", "spend"}, Role::kCost) < 0) return header_error(rec, "column 'cost' is missing");
        break;
    }
    return true;
  }

  bool fail(const Record& rec, const std::string& field, std::string msg) {
    ctx_.errors.add(row_error(ctx_.name, rec.line, field, std::move(msg), rec.text));
    return false;
  }

  bool parse_row(const Record& rec) {
    // One pass splits a record with no quote and no NUL (most of them).
    fields_.clear();
    if (!split_plain_csv(rec.text, fields_)) {
      if (rec.text.find('\0') != std::string_view::npos)
        return fail(rec, "", "contains a NUL byte, which cairn does not store");
      std::string err;
      if (!split_quoted_csv(rec.text, row_, fields_, err)) return fail(rec, "", err);
    }
    if (fields_.size() != columns_.size())
      return fail(rec, "", fmt::format("has {} fields, the header has {}", fields_.size(), columns_.size()));
    switch (ctx_.kind) {
      case InputKind::kEvents:
        return parse_event(rec);
      case InputKind::kContacts:
        return parse_contact(rec);
      case InputKind::kCosts:
        return parse_cost(rec);
    }
    return false;
  }

  bool parse_event(const Record& rec) {
    PendingEvent e;
    e.prop_begin = row_.props.size();
    for (size_t i = 0; i < columns_.size(); ++i) {
      const Column& c = columns_[i];
      const std::string_view v = fields_[i];
      if (c.role == Role::kProperty) {  // most columns, and mostly empty: no jump through the switch
        if (!v.empty()) row_.add_prop(e, c.name, infer_value(v));
        continue;
      }
      switch (c.role) {
        case Role::kUser:
          e.user_id = v;
          break;
        case Role::kAnonymous:
          e.anonymous_id = v;
          break;
        case Role::kTime: {
          if (v.empty()) return fail(rec, c.name, "is missing");
          if (!parse_time(v, e.time)) return fail(rec, c.name, cannot_parse(v, "a time"));
          break;
        }
        case Role::kEvent:
          if (v.empty()) return fail(rec, c.name, "is missing");
          e.event = v;
          break;
        case Role::kMessage:
          e.message_id = v;
          break;
        case Role::kRevenue: {
          if (v.empty()) break;
          PendingValue num;
          num.type = ValueType::kNumber;
          if (!parse_number(trim(v), num.num)) return fail(rec, c.name, cannot_parse(v, "a number"));
          row_.add_prop(e, "revenue", num);
          break;
        }
        default:  // kProperty is taken above; an event file's header gives no other role
          break;
      }
    }
    if (e.user_id.empty() && e.anonymous_id.empty()) {
      for (const Column& c : columns_)
        if (c.role == Role::kUser || c.role == Role::kAnonymous) return fail(rec, c.name, "is missing");
    }
    row_.events.push_back(e);
    return true;
  }

  bool parse_contact(const Record& rec) {
    std::string_view id;
    const Column* id_col = nullptr;
    for (size_t i = 0; i < columns_.size(); ++i)
      if (columns_[i].role == Role::kId) {
        id = fields_[i];
        id_col = &columns_[i];
      }
    if (id.empty()) return fail(rec, id_col->name, "is missing");
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].role == Role::kId || fields_[i].empty()) continue;
      row_.traits.push_back(PendingTrait{id, PendingProp{columns_[i].name, infer_value(fields_[i])}});
    }
    return true;
  }

  bool parse_cost(const Record& rec) {
    PendingCost c{};
    for (size_t i = 0; i < columns_.size(); ++i) {
      const Column& col = columns_[i];
      const std::string_view v = trim(fields_[i]);
      switch (col.role) {
        case Role::kDate: {
          if (v.empty()) return fail(rec, col.name, "is missing");
          auto t = parse_time(v);
          if (!t) return fail(rec, col.name, cannot_parse(v, "a date"));
          c.day = day_of(*t);
          break;
        }
        case Role::kChannel:
          if (v.empty()) return fail(rec, col.name, "is missing");
          c.channel = v;
          break;
        case Role::kCampaign:
          c.campaign = v;
          break;
        case Role::kCost:
          if (v.empty()) return fail(rec, col.name, "is missing");
          if (!parse_number(v, c.cost)) return fail(rec, col.name, cannot_parse(v, "a number"));
          if (c.cost < 0) return fail(rec, col.name, fmt::format("is negative ({})", v));
          break;
        default:
          break;  // other columns are ignored
      }
    }
    row_.costs.push_back(c);
    return true;
  }

  ParseContext& ctx_;
  PendingRow row_;
  std::vector<std::string_view> fields_;
  std::vector<Column> columns_;
};

}  // namespace

Status parse_csv(ParseContext& ctx) { return CsvParser(ctx).run(); }

}  // namespace cairn
