// The `preflight` command line. Every subcommand prints JSON on stdout. Exit status:
// 0 success; 2 bad input, with a SCIM Error resource on stdout and one human line on
// stderr; 1 internal failure. See DESIGN.md "Contracts other code relies on".

#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/commands.h"
#include "bindings/http/serve.h"
#include "engine/policy/check.h"
#include "engine/util/error.h"

namespace preflight::cli {

constexpr char kUsage[] = R"(usage: preflight <command> [options]

  check --snapshot PATH [--request FILE|-] [--explain] [--pretty]
  check --snapshot PATH --identity NAME --plan FILE [--plan-type xml|json|map]
        [--policy NAME]... [--explain] [--pretty]
  plan convert --to xml|json [--from xml|json|map] FILE|-
  plan compile --snapshot PATH --identity NAME [--plan-type xml|json|map] FILE|-
  filter parse FILTER
  filter eval FILTER FILE|-
  query --snapshot PATH Users|Accounts|Entitlements|Roles|Applications [--filter F]
        [--attributes A,B] [--excluded-attributes A,B] [--sort-by A]
        [--sort-order ascending|descending] [--start-index N] [--count N]
  snapshot stats PATH...
  serve --snapshot PATH... [--listen HOST:PORT] [--credentials FILE] ...  (serve --help)
  credentials add --user NAME --file FILE | credentials token --name NAME --file FILE

--snapshot may be repeated; each PATH is a file or a directory of IdentityIQ XML and
SCIM JSON exports. Every command takes --limit NAME=N (repeatable) to change a budget on
its input: max_input_bytes, max_nesting_depth, max_filter_length, max_filter_depth,
max_batch_requests, max_plan_values, max_plan_requests; exceeding one is a tooMany error.
Exit status: 0 success, 2 bad input (SCIM Error on stdout), 1 internal.
)";

Args::Args(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string name = a.substr(2), value;
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else if (IsFlag(name)) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        missing_value = name;
      }
      options[name].push_back(value);
    } else {
      positional.push_back(a);
    }
  }
}

bool Args::IsFlag(const std::string& name) {
  return name == "explain" || name == "pretty" || name == "strict" || name == "help";
}

std::optional<std::string> Args::Get(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::All(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

absl::Status Usage(std::string_view detail) {
  return MakeError(ErrorCode::kInvalidValue, absl::StrCat(ToAbsl(detail), " (see 'preflight --help')"));
}

absl::StatusOr<Limits> LimitsFrom(const Args& args) {
  Limits limits;
  for (const std::string& assignment : args.All("limit")) {
    if (absl::Status s = SetLimit(limits, assignment); !s.ok()) return s;
  }
  return limits;
}

int Finish(const absl::StatusOr<std::string>& output) {
  if (output.ok()) {
    std::fwrite(output->data(), 1, output->size(), stdout);
    std::fputc('\n', stdout);
    return 0;
  }
  const absl::Status& s = output.status();
  std::string error = ScimErrorJson(s);
  std::fwrite(error.data(), 1, error.size(), stdout);
  std::fputc('\n', stdout);
  // One human line: the caret rendering some messages carry stays in `detail`.
  std::string line(s.message());
  line = line.substr(0, line.find('\n'));
  std::fprintf(stderr, "preflight: %s\n", line.c_str());
  return ErrorCodeOf(s) == ErrorCode::kInternal ? 1 : 2;
}

int Main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) return http::ServeMain(argc, argv);  // own options
  if (argc > 1 && std::strcmp(argv[1], "credentials") == 0) return http::CredentialsMain(argc, argv);
  Args args(argc, argv);
  if (args.Get("help") || args.positional.empty()) {
    std::fputs(kUsage, args.positional.empty() && !args.Get("help") ? stderr : stdout);
    return args.Get("help") ? 0 : 2;
  }
  if (args.missing_value) return Finish(Usage(absl::StrCat("--", *args.missing_value, " needs a value")));
  const std::string& command = args.positional[0];
  std::string sub = args.positional.size() > 1 ? args.positional[1] : "";
  try {
    if (command == "check") return Finish(RunCheck(args));
    if (command == "plan" && sub == "convert") return Finish(RunPlanConvert(args));
    if (command == "plan" && sub == "compile") return Finish(RunPlanCompile(args));
    if (command == "filter" && sub == "parse") return Finish(RunFilterParse(args));
    if (command == "filter" && sub == "eval") return Finish(RunFilterEval(args));
    if (command == "query") return Finish(RunQuery(args));
    if (command == "snapshot" && sub == "stats") return Finish(RunSnapshotStats(args));
    return Finish(Usage(absl::StrCat("unknown command '", command, sub.empty() ? "" : " " + sub, "'")));
  } catch (const std::exception& e) {
    return Finish(MakeError(ErrorCode::kInternal, absl::StrCat("internal error: ", e.what())));
  }
}

}  // namespace preflight::cli

int main(int argc, char** argv) { return preflight::cli::Main(argc, argv); }
