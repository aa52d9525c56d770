#include <catch2/catch.hpp>

#include <cstdio>

#include "engine/util/error.h"
#include "engine/util/json_writer.h"
#include "engine/util/limits.h"

using namespace preflight;

TEST_CASE("errors carry code, detail and location through absl::Status") {
  Location where = LocationAt("ab\ncd\nef", 4, "plan.xml");
  CHECK(where.line == 2);
  CHECK(where.column == 2);
  absl::Status s = MakeError(ErrorCode::kInvalidSyntax, "unexpected '>'", where);
  CHECK(ErrorCodeOf(s) == ErrorCode::kInvalidSyntax);
  CHECK(ScimType(ErrorCodeOf(s)) == "invalidSyntax");
  CHECK(DetailOf(s) == "unexpected '>'");
  CHECK(std::string(s.message()) == "plan.xml:line 2, column 2: unexpected '>'");
  Location back = LocationOf(s);
  CHECK(back.file == "plan.xml");
  CHECK(back.offset == 4);
  absl::Status c = WithContext(s, "reading plan");
  CHECK(DetailOf(c) == "reading plan: unexpected '>'");
  CHECK(LocationOf(c).line == 2);
}

TEST_CASE("json writer escapes and nests") {
  JsonWriter w;
  w.BeginObject().Field("a", "x\"\n\x01").Key("b").BeginArray().Int(1).Bool(false).Null().EndArray()
      .Key("c").BeginObject().EndObject().EndObject();
  CHECK(w.str() == R"({"a":"x\"\n\u0001","b":[1,false,null],"c":{}})");
  JsonWriter p(2);
  p.BeginObject().Key("k").BeginArray().String("v").EndArray().EndObject();
  CHECK(p.str() == "{\n  \"k\": [\n    \"v\"\n  ]\n}");
}

// The escaping as RFC 8259 spells it, one byte at a time: what AppendEscaped must write.
std::string EscapedByteByByte(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

TEST_CASE("json writer escapes every byte as RFC 8259 says, appending to what is there") {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  // Every byte alone, every byte among plain text, and runs of every length around one.
  for (int c = 0; c < 256; ++c) {
    const std::string one(1, static_cast<char>(c));
    for (const std::string& s : {one, "ab" + one + "cdefghijk", std::string(17, static_cast<char>(c))}) {
      std::string out = "prefix";
      JsonWriter::AppendEscaped(out, s);
      CHECK(out == "prefix" + EscapedByteByByte(s));
    }
  }
  // Long mixed texts (a JSON plan echoed: a quote every few bytes, runs of every length,
  // across the writer's 16-byte steps and its chunks): pseudo-random, the same every run.
  uint64_t seed = 17;
  auto next = [&seed] { return (seed = seed * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  for (int round = 0; round < 200; ++round) {
    std::string s;
    const size_t length = next() % 1200;
    while (s.size() < length) {
      s.append(next() % 40, static_cast<char>('a' + next() % 26));
      s.push_back(static_cast<char>(next() % 3 == 0 ? next() % 256 : (next() % 2 ? '"' : '\\')));
    }
    std::string out = "x";
    JsonWriter::AppendEscaped(out, s);
    REQUIRE(out == "x" + EscapedByteByByte(s));
  }
  std::string out;
  JsonWriter::AppendEscaped(out, all);
  CHECK(out == EscapedByteByByte(all));
  out.clear();
  JsonWriter::AppendEscaped(out, "");
  CHECK(out == "\"\"");
  // ASCII only: non-ASCII as \u escapes (a pair beyond the BMP), a stray byte as Latin-1.
  out.clear();
  JsonWriter::AppendEscaped(out, "\"\xC3\xA9\xF0\x9F\x98\x80\xFF\x01", true);
  CHECK(out == R"("\"\u00e9\ud83d\ude00\u00ff\u0001")");
}

TEST_CASE("limits are set by name, and bad names and values are invalidValue") {
  Limits limits;
  REQUIRE(LimitNames().size() == 8);
  // Each name sets its own field and nothing else.
  int64_t value = 10;  // depth budgets stop at kMaxNestingDepthCap / kMaxFilterDepthCap
  for (std::string_view name : LimitNames()) REQUIRE(SetLimit(limits, name, ++value).ok());
  CHECK(limits.max_input_bytes == 11);
  CHECK(limits.max_nesting_depth == 12);
  CHECK(limits.max_filter_length == 13);
  CHECK(limits.max_filter_depth == 14);
  CHECK(limits.max_batch_requests == 15);
  CHECK(limits.max_plan_values == 16);
  CHECK(limits.max_plan_requests == 17);
  CHECK(limits.max_query_cache_bytes == 18);

  REQUIRE(SetLimit(limits, "max_nesting_depth=16").ok());
  CHECK(limits.max_nesting_depth == 16);

  absl::Status unknown = SetLimit(limits, "max_depth", 3);
  CHECK(ErrorCodeOf(unknown) == ErrorCode::kInvalidValue);
  CHECK(unknown.message() ==
        "unknown limit 'max_depth': expected one of max_input_bytes, max_nesting_depth, max_filter_length, "
        "max_filter_depth, max_batch_requests, max_plan_values, max_plan_requests, max_query_cache_bytes");
  absl::Status zero = SetLimit(limits, "max_plan_values", 0);
  CHECK(ErrorCodeOf(zero) == ErrorCode::kInvalidValue);
  CHECK(zero.message() == "limit max_plan_values must be between 1 and 9223372036854775807, not 0");
  // Depths stop at the proven maxima (limits.h): a value past them, or past INT_MAX, is refused.
  CHECK(SetLimit(limits, "max_nesting_depth", int64_t{1} << 31).message() ==
        "limit max_nesting_depth must be between 1 and 128, not 2147483648");
  CHECK(limits.max_nesting_depth == 16);
  CHECK(SetLimit(limits, "max_nesting_depth").message() ==
        "a limit is NAME=N (for example max_nesting_depth=16), not 'max_nesting_depth'");
  CHECK(SetLimit(limits, "max_nesting_depth=16x").message() == "limit max_nesting_depth needs a whole number, not '16x'");
  CHECK(SetLimit(limits, "max_nesting_depth=").message() == "limit max_nesting_depth needs a whole number, not ''");
  CHECK(SetLimit(limits, "max_nesting_depth=-1").message() ==
        "limit max_nesting_depth must be between 1 and 128, not -1");
}
