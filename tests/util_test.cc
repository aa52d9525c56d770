#include <catch2/catch.hpp>

#include "engine/util/error.h"
#include "engine/util/json_writer.h"

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
