// Whole-number fields of query documents: a number parsed from text is
// unsigned in nlohmann::json, one a C++ caller builds (json(3)) is signed;
// both count, and negative numbers, fractions and strings are refused with
// the field's path.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "query/cohort.h"
#include "query/spec.h"

namespace cairn::query {
namespace spec_test {

using nlohmann::json;

TEST(QuerySpec, WholeNumberTakesSignedAndUnsignedIntegersInRange) {
  EXPECT_EQ(whole_number(json(3)), std::optional<uint64_t>(3));           // signed, as C++ builds it
  EXPECT_EQ(whole_number(json::parse("3")), std::optional<uint64_t>(3));  // unsigned, as parsed
  EXPECT_TRUE(json(3).is_number_integer() && !json(3).is_number_unsigned());
  EXPECT_EQ(whole_number(json(0)), std::optional<uint64_t>(0));
  EXPECT_EQ(whole_number(json(-1)), std::nullopt);
  EXPECT_EQ(whole_number(json::parse("-1")), std::nullopt);
  EXPECT_EQ(whole_number(json(2.0)), std::nullopt);
  EXPECT_EQ(whole_number(json("3")), std::nullopt);
  EXPECT_EQ(whole_number(json(true)), std::nullopt);
  EXPECT_EQ(whole_number(json(4), 1, 4), std::optional<uint64_t>(4));
  EXPECT_EQ(whole_number(json(5), 1, 4), std::nullopt);
  EXPECT_EQ(whole_number(json(0), 1, 4), std::nullopt);
  EXPECT_EQ(whole_number(json(UINT64_MAX)), std::optional<uint64_t>(UINT64_MAX));
}

json funnel_doc() {
  return json{{"type", "funnel"}, {"steps", json::array({json{{"event", "a"}}, json{{"event", "b"}}, json{{"event", "c"}}})}};
}

TEST(QuerySpec, FunnelFieldsBuiltInCppWithSignedNumbers) {
  json doc = funnel_doc();
  doc["persons"] = json{{"step", 2}, {"status", "dropped"}, {"limit", 10}};
  doc["breakdown"] = json{{"property", "channel"}, {"limit", 5}};
  auto spec = parse_funnel(doc);
  ASSERT_TRUE(spec.is_ok()) << spec.status().message();
  ASSERT_TRUE(spec->persons.has_value());
  EXPECT_EQ(spec->persons->step, 2u);
  EXPECT_EQ(spec->persons->limit, 10u);
  ASSERT_TRUE(spec->breakdown.has_value());
  EXPECT_EQ(spec->breakdown->limit, 5u);

  doc["persons"]["step"] = -1;
  spec = parse_funnel(doc);
  ASSERT_FALSE(spec.is_ok());
  EXPECT_EQ(spec.status().message(), "persons.step: expected a step number from 0 to 2");
  doc["persons"]["step"] = 3;
  EXPECT_EQ(parse_funnel(doc).status().message(), "persons.step: expected a step number from 0 to 2");
  doc["persons"]["step"] = 1;
  doc["breakdown"]["limit"] = 0;
  EXPECT_EQ(parse_funnel(doc).status().message(), "breakdown.limit: expected a positive whole number");
}

TEST(QuerySpec, RetentionPeriodsBuiltInCpp) {
  json doc = json{{"type", "retention"}, {"start", json{{"event", "a"}}}, {"return", json{{"event", "b"}}}, {"periods", 4}};
  auto spec = parse_cohorts(doc);
  ASSERT_TRUE(spec.is_ok()) << spec.status().message();
  EXPECT_EQ(spec->periods, 4u);
  doc["periods"] = -4;
  spec = parse_cohorts(doc);
  ASSERT_FALSE(spec.is_ok());
  EXPECT_EQ(spec.status().message().rfind("periods: expected a whole number from 1 to", 0), 0u) << spec.status().message();
}

}  // namespace spec_test
}  // namespace cairn::query
