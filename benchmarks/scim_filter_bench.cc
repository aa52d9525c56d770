// SCIM filter benchmarks: parse throughput on a mixed set of corpus-like filters, and bound
// filter evaluation over 100,000 generated User resources. Before any timing, each evaluation
// benchmark checks its match count against an expectation computed directly from the
// generator's formulas (not through the evaluator) and reports SkipWithError on a mismatch.

#include <benchmark/benchmark.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/query/bound_filter.h"
#include "engine/query/doc.h"
#include "engine/query/query.h"
#include "engine/wire/list_response.h"
#include "grammar/scim_filter.h"

using namespace preflight;

namespace {

const char* kMixedFilters[] = {
    "userName eq \"bjensen\"",
    "name.familyName co \"O'Malley\"",
    "userName sw \"J\"",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
    "title pr",
    "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
    "title pr and userType eq \"Employee\"",
    "title pr or userType eq \"Intern\"",
    "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
    "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
    "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")",
    "userType eq \"Employee\" and (emails.type eq \"work\")",
    "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
    "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]",
    "weight gt 175.5 and children le 4 and active eq true",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915\"",
    "NOT (displayName EQ \"caf\\u00e9 \\ud83d\\ude00\") AnD x eq null",
};

void BM_ParseMixed(benchmark::State& state) {
  size_t bytes = 0;
  for (const char* f : kMixedFilters) {
    if (!ParseScimFilter(f).ok()) {
      state.SkipWithError(absl::StrCat("does not parse: ", f).c_str());
      return;
    }
    bytes += std::string_view(f).size();
  }
  for (auto _ : state) {
    for (const char* f : kMixedFilters) {
      auto ast = ParseScimFilter(f);
      benchmark::DoNotOptimize(ast);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(std::size(kMixedFilters)));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ParseMixed);

// ------------------------------------------------------------------ the workload

constexpr int kUsers = 100000;
const char* kDepartments[] = {"Sales", "Engineering", "Finance", "Support", "Legal"};
const char* kEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// The generator's facts, one function per attribute, shared by the JSON generator and the
// expectations.
bool Active(int i) { return i % 3 != 0; }
bool HasTitle(int i) { return i % 4 == 0; }
bool WorkAtExample(int i) { return i % 2 == 0; }
int Age(int i) { return 18 + i % 70; }
int CreatedMinute(int i) { return (i * 37) % 500000; }  // minutes after 2020-01-01T00:00:00Z
const char* Department(int i) { return kDepartments[i % 5]; }
int EmployeeNumber(int i) { return 100000 + (i * 7919) % 900000; }

std::string CreatedText(int i) {
  // 2020 is a leap year: 527040 minutes; CreatedMinute stays below that.
  static const int kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int m = CreatedMinute(i);
  int day = m / 1440, minute_of_day = m % 1440, month = 0;
  while (day >= kMonthDays[month]) day -= kMonthDays[month++];
  char buf[40];
  std::snprintf(buf, sizeof buf, "2020-%02d-%02dT%02d:%02d:00-02:00", month + 1, day + 1, minute_of_day / 60,
                minute_of_day % 60);
  return buf;  // local time at -02:00: the instant is two hours later in UTC
}

std::string UserJson(int i) {
  std::string j = absl::StrCat(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"id-)",
                               i, R"(","userName":"User)", i, R"(","active":)", Active(i) ? "true" : "false",
                               R"(,"age":)", Age(i), R"(,"department":")", Department(i), "\"");
  if (HasTitle(i)) absl::StrAppend(&j, R"(,"title":"Title )", i % 11, "\"");
  absl::StrAppend(&j, R"(,"name":{"givenName":"Given)", i, R"(","familyName":"Family)", i % 977, "\"}");
  absl::StrAppend(&j, R"(,"emails":[{"type":"home","value":"u)", i, R"(@home.net"},{"type":"work","primary":true,"value":"u)",
                  i, WorkAtExample(i) ? "@example.com" : "@example.org", "\"}]");
  absl::StrAppend(&j, R"(,"meta":{"resourceType":"User","created":")", CreatedText(i), "\"}");
  absl::StrAppend(&j, ",\"", kEnterprise, R"(":{"employeeNumber":")", EmployeeNumber(i), R"(","manager":{"value":"id-)",
                  i / 10, "\"}}}");
  return j;
}

const std::vector<Doc>& Users() {
  static const std::vector<Doc> docs = [] {
    std::vector<Doc> out;
    out.reserve(kUsers);
    for (int i = 0; i < kUsers; ++i) out.push_back(*DocFromJson(UserJson(i)));
    return out;
  }();
  return docs;
}

int Count(const std::function<bool(int)>& pred) {
  int n = 0;
  for (int i = 0; i < kUsers; ++i) n += pred(i) ? 1 : 0;
  return n;
}

struct Case {
  const char* name;
  const char* filter;
  std::function<bool(int)> expect;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"eq_one", "USERNAME eq \"user4242\"", [](int i) { return i == 4242; }},
      {"and_pr", "active eq true and title pr", [](int i) { return Active(i) && HasTitle(i); }},
      {"value_path", "emails[type eq \"work\" and value ew \"@EXAMPLE.com\"]", WorkAtExample},
      {"range", "age ge 30 and age lt 40", [](int i) { return Age(i) >= 30 && Age(i) < 40; }},
      // created (local -02:00) > 2020-06-01T00:00:00Z  <=>  minute + 120 > 152 days * 1440
      {"datetime", "meta.created gt \"2020-06-01T00:00:00Z\"",
       [](int i) { return CreatedMinute(i) + 120 > 152 * 1440; }},
      {"not_or_urn",
       "not (department eq \"sales\") or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber sw \"1\"",
       [](int i) { return std::string(Department(i)) != "Sales" || std::to_string(EmployeeNumber(i))[0] == '1'; }},
  };
  return cases;
}

void BM_Evaluate(benchmark::State& state) {
  const Case& c = Cases()[static_cast<size_t>(state.range(0))];
  state.SetLabel(c.name);
  const std::vector<Doc>& docs = Users();
  const ResourceSchema schema = ResourceSchema::WithScimDefaults("urn:ietf:params:scim:schemas:core:2.0:User");
  absl::StatusOr<BoundFilter> f = CompileFilter(c.filter, schema);
  if (!f.ok()) {
    state.SkipWithError(std::string(f.status().message()).c_str());
    return;
  }
  const int want = Count(c.expect);
  int got = 0;
  for (const Doc& d : docs) got += f->Evaluate(d) == BoundFilter::Result::kTrue ? 1 : 0;
  if (got != want) {
    state.SkipWithError(absl::StrCat(c.name, ": ", got, " matches, expected ", want).c_str());
    return;
  }
  state.counters["matches"] = want;
  for (auto _ : state) {
    int n = 0;
    for (const Doc& d : docs) n += f->Evaluate(d) == BoundFilter::Result::kTrue ? 1 : 0;
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * kUsers);
}
BENCHMARK(BM_Evaluate)->DenseRange(0, 5)->Unit(benchmark::kMillisecond);

// The same filters over the first 1,000 users only (cache-resident): the evaluator's own cost,
// without the memory traffic of walking 100,000 documents.
void BM_EvaluateHot(benchmark::State& state) {
  const Case& c = Cases()[static_cast<size_t>(state.range(0))];
  state.SetLabel(c.name);
  const std::vector<Doc>& all = Users();
  const std::span<const Doc> docs(all.data(), 1000);
  const ResourceSchema schema = ResourceSchema::WithScimDefaults("urn:ietf:params:scim:schemas:core:2.0:User");
  absl::StatusOr<BoundFilter> f = CompileFilter(c.filter, schema);
  if (!f.ok()) {
    state.SkipWithError(std::string(f.status().message()).c_str());
    return;
  }
  for (auto _ : state) {
    int n = 0;
    for (const Doc& d : docs) n += f->Evaluate(d) == BoundFilter::Result::kTrue ? 1 : 0;
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(docs.size()));
}
BENCHMARK(BM_EvaluateHot)->DenseRange(0, 5)->Unit(benchmark::kMicrosecond);

void BM_QueryPage(benchmark::State& state) {
  const std::vector<Doc>& docs = Users();
  const ResourceSchema schema = ResourceSchema::WithScimDefaults("urn:ietf:params:scim:schemas:core:2.0:User");
  QueryOptions o;
  o.filter = "active eq true and title pr";
  o.sort_by = "name.familyName";
  o.count = 50;
  o.attributes = {"userName", "name.familyName"};
  for (auto _ : state) {
    auto r = RunQuery(std::span<const Doc>(docs), schema, o);
    std::string list = ListResponseJson(r.value());
    benchmark::DoNotOptimize(list);
  }
  state.SetItemsProcessed(state.iterations() * kUsers);
}
BENCHMARK(BM_QueryPage)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
