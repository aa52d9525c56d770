// libFuzzer target: the check-request JSON reading against a reference JSON parser
// (nlohmann::json's SAX parser, which decodes keys independently of simdjson), on what
// issue 14 asks of one reading. FUZZ_MAX_LEN=4096
// Oracle, for a body within the budgets:
//   - the reference finds a key repeated in one object  =>  ParseCheckRequest refuses the body
//     as invalidValue "duplicate key ..." (or as not JSON, where the two parsers' grammars
//     differ, e.g. a number simdjson cannot hold);
//   - ParseCheckRequest says "duplicate key"  =>  the reference finds one;
//   - the reference rejects the text  =>  ParseCheckRequest rejects it too.
// Seeds: fuzz/seeds/check_request.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/codecs/check_request.h"
#include "engine/util/error.h"

using namespace preflight;

namespace {

// Records whether any object repeats a key, and the deepest nesting.
struct DuplicateFinder : nlohmann::json_sax<nlohmann::json> {
  std::vector<std::set<std::string>> objects;  // keys seen, one set per open object
  std::vector<bool> is_object;
  size_t depth = 0, max_depth = 0;
  bool duplicate = false;

  bool open(bool object) {
    is_object.push_back(object);
    if (object) objects.emplace_back();
    max_depth = std::max(max_depth, ++depth);
    return true;
  }
  bool close() {
    if (is_object.back()) objects.pop_back();
    is_object.pop_back();
    --depth;
    return true;
  }
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return open(true); }
  bool key(string_t& k) override {
    duplicate |= !objects.back().insert(k).second;
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};

[[noreturn]] void Fail(const char* what, std::string_view body, const absl::Status& s) {
  std::fprintf(stderr, "ORACLE FAILURE: %s\nbody: %.*s\nours: %s\n", what, static_cast<int>(body.size()), body.data(),
               s.ToString().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  Limits limits;
  absl::StatusOr<CheckRequest> ours = ParseCheckRequest(body, limits);
  const bool ours_duplicate = !ours.ok() && DetailOf(ours.status()).rfind("duplicate key", 0) == 0;
  if (ours_duplicate && ErrorCodeOf(ours.status()) != ErrorCode::kInvalidValue)
    Fail("a duplicate key is not invalidValue", body, ours.status());

  DuplicateFinder reference;
  const bool valid = nlohmann::json::sax_parse(body, &reference, nlohmann::json::input_format_t::json, true, false);
  if (!valid) {
    if (ours.ok()) Fail("the reference rejects the text, ParseCheckRequest accepts it", body, ours.status());
    return 0;
  }
  if (reference.max_depth > static_cast<size_t>(limits.max_nesting_depth)) return 0;  // over the budget: tooMany
  if (reference.duplicate && ours.ok()) Fail("a repeated key was accepted", body, ours.status());
  if (reference.duplicate && !ours_duplicate && ErrorCodeOf(ours.status()) != ErrorCode::kInvalidSyntax)
    Fail("a repeated key was refused for another reason", body, ours.status());
  if (!reference.duplicate && ours_duplicate) Fail("a duplicate key the reference does not see", body, ours.status());
  return 0;
}
