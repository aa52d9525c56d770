// The `preflight` command line. Every subcommand prints JSON on stdout (`filter parse` its
// S-expression). Exit status: 0 success; 2 bad input, with a SCIM Error resource on stdout
// and one human line on stderr; 1 internal failure. Each subcommand is a row of kCommands:
// its words, synopsis, options and runner; the runners call only the facade.

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/commands.h"
#include "bindings/http/pull.h"
#include "bindings/http/serve.h"

namespace preflight::cli {
namespace {

constexpr OptionSpec kLimit{"limit", true, true};
constexpr OptionSpec kPretty{"pretty", false};
constexpr OptionSpec kHelp{"help", false};
constexpr OptionSpec kSnapshot{"snapshot", true, true};
constexpr OptionSpec kAllowPartial{"allow-partial", false};
constexpr OptionSpec kImageVerify{"image-verify"};  // full | lazy: how a compiled image is verified when opened
constexpr OptionSpec kStrict{"strict", false};  // the default now; accepted for old scripts

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = {
      {"check",
       "check --snapshot PATH [--request FILE|-] [--explain] [--pretty]\n"
       "       preflight check --snapshot PATH --identity NAME --plan FILE [--plan-type xml|json|map]\n"
       "                       [--policy NAME]... [--explain] [--pretty]",
       "Answer a CheckedPolicyViolations request: the new violations a plan would create.",
       {kSnapshot, {"request"}, {"identity"}, {"plan"}, {"plan-type"}, {"policy", true, true}, {"explain", false},
        kPretty, kLimit, kAllowPartial, kImageVerify, kStrict, kHelp},
       0, 0, RunCheck},
      {"plan convert", "plan convert --to xml|json [--from xml|json|map] [--pretty] FILE|-",
       "Convert a ProvisioningPlan between its forms, losslessly.",
       {{"to"}, {"from"}, kPretty, kLimit, kHelp}, 0, 1, RunPlanConvert},
      {"plan compile", "plan compile --snapshot PATH --identity NAME [--plan-type xml|json|map] [--pretty] FILE|-",
       "The plan as compiled for one identity, with the projected roles and entitlements.",
       {kSnapshot, {"identity"}, {"plan-type"}, kPretty, kLimit, kAllowPartial, kImageVerify, kStrict, kHelp}, 0, 1,
       RunPlanCompile},
      {"plan workflow",
       "plan workflow --identity NAME [--workflow NAME] [--plan-type xml|json|map] [--pretty] FILE|-",
       "The LaunchedWorkflows request body that launches a workflow (default \"LCM Provisioning\")\n"
       "with this plan for the identity: POST it to IdentityIQ's /scim/v2/LaunchedWorkflows.",
       {{"identity"}, {"workflow"}, {"plan-type"}, kPretty, kLimit, kHelp}, 0, 1, RunPlanWorkflow},
      {"filter parse", "filter parse FILTER", "Print a SCIM filter's AST as an S-expression.", {kLimit, kHelp}, 1, 1,
       RunFilterParse},
      {"filter eval", "filter eval FILTER FILE|-", "Evaluate a SCIM filter on one JSON resource: true or false.",
       {kLimit, kHelp}, 1, 2, RunFilterEval},
      {"query",
       "query --snapshot PATH Users|Accounts|Entitlements|Roles|Applications [--filter F]\n"
       "       [--attributes A,B] [--excluded-attributes A,B] [--sort-by A]\n"
       "       [--sort-order ascending|descending] [--start-index N] [--count N]",
       "A SCIM query over the snapshot: a ListResponse.",
       {kSnapshot, {"filter"}, {"attributes"}, {"excluded-attributes"}, {"sort-by"}, {"sort-order"},
        {"start-index"}, {"count"}, kLimit, kAllowPartial, kImageVerify, kStrict, kHelp},
       1, 1, RunQuery},
      {"snapshot stats", "snapshot stats PATH... [--pretty] [--allow-partial]",
       "Counts, memory, load time per pass and the load diagnostics of a snapshot.",
       {kSnapshot, kPretty, kLimit, kAllowPartial, kImageVerify, kStrict, kHelp}, 0, 1 << 20, RunSnapshotStats},
      {"snapshot compile", "snapshot compile PATH... -o FILE [--allow-partial] [--pretty]",
       "Compile a snapshot (the exports, or an image) into one image file that every command, serve,\n"
       "Python and the C ABI open in place of the exports: mapped, no parsing. Loads fail-closed like\n"
       "every command; an image of a partial snapshot (--allow-partial) stays partial when opened.",
       {kSnapshot, {"output", true, false, 'o'}, kPretty, kLimit, kAllowPartial, kImageVerify, kStrict, kHelp}, 0, 1 << 20,
       RunSnapshotCompile},
      {"scan",
       "scan --snapshot PATH [--filter F] [--policy NAME]... [--format jsonl|json|csv] [--summary]\n"
       "                      [--threads N]",
       "Every current violation of the active (or named) policies, per identity; summary on stderr.",
       {kSnapshot, {"filter"}, {"policy", true, true}, {"format"}, {"summary", false}, {"threads"}, kLimit,
        kAllowPartial, kImageVerify, kStrict, kHelp},
       0, 0, RunScan},
      {"impact",
       "impact --snapshot PATH (--change FILE... [--activate POLICY]... | --plan FILE [--plan-type T])\n"
       "                        [--filter F] [--policy NAME]... [--format jsonl|json|csv] [--summary] [--threads N]",
       "What a change does to the population: violations and detected roles gained and lost per identity\n"
       "(changed or new Role/Policy files replace objects by name), or the new violations of one plan\n"
       "applied to every identity the filter selects.",
       {kSnapshot, {"change", true, true}, {"activate", true, true}, {"plan"}, {"plan-type"}, {"filter"},
        {"policy", true, true}, {"format"}, {"summary", false}, {"threads"}, kLimit, kAllowPartial, kImageVerify, kStrict, kHelp},
       0, 1 << 20, RunImpact},
  };
  return commands;
}

constexpr char kFooter[] = R"(
--snapshot may be repeated; each PATH is a file or a directory of IdentityIQ XML and SCIM JSON
exports, or a compiled image (snapshot compile), given alone. A snapshot that loads with errors,
or holds no policy or no identity, is refused (exit 2, the first problems in the error);
--allow-partial loads what did load, and every check answer then carries a "partial snapshot"
warning in its extension and on stderr.
--image-verify full|lazy: how a compiled image is verified when opened. full (the default) checks
every byte before the command runs; lazy checks the header and the small sections at open, every
record a command reads as it reads it, and the rest in the background (a corruption found there
fails every later answer).
--limit NAME=N (repeatable) changes a budget on the command's input: max_input_bytes,
max_nesting_depth, max_filter_length, max_filter_depth, max_batch_requests, max_plan_values,
max_plan_requests; exceeding one is a tooMany error. max_query_cache_bytes (1 GiB) bounds the
query documents kept of one resource type; past it, each query makes them again.
Exit status: 0 success, 2 bad input (SCIM Error on stdout, one line on stderr), 1 internal failure.
)";

std::string MainUsage() {
  std::string out = "usage: preflight <command> [options]   (preflight <command> --help; preflight --version)\n\n";
  for (const CommandSpec& c : Commands()) absl::StrAppend(&out, "  ", ToAbsl(c.usage), "\n");
  out += "  serve --snapshot PATH... [--listen HOST:PORT] [--credentials FILE] ...   (see serve --help)\n"
         "  credentials add --user NAME --file FILE | credentials token --name NAME --file FILE\n"
         "  snapshot pull --url BASE --out DIR [--refresh] [--with FILE]... ...   (see snapshot pull --help)\n";
  return out + kFooter;
}

std::string CommandHelp(const CommandSpec& c) {
  return absl::StrCat("usage: preflight ", ToAbsl(c.usage), "\n\n", ToAbsl(c.summary), "\n", kFooter);
}

int Print(FILE* stream, std::string_view text, int status) {
  std::fwrite(text.data(), 1, text.size(), stream);
  return status;
}

int Finish(const absl::StatusOr<std::string>& output) {
  if (output.ok()) {
    if (output->empty()) return 0;  // a runner that streamed its own output (scan, impact)
    std::fwrite(output->data(), 1, output->size(), stdout);
    std::fputc('\n', stdout);
    return 0;
  }
  const absl::Status& s = output.status();
  std::string error = ScimErrorJson(s);
  std::fwrite(error.data(), 1, error.size(), stdout);
  std::fputc('\n', stdout);
  // One human line on stderr; the rest (a caret rendering, the usage) stays in `detail`.
  std::string line(s.message());
  line = line.substr(0, line.find('\n'));
  std::fprintf(stderr, "preflight: %s\n", line.c_str());
  return ErrorCodeOf(s) == ErrorCode::kInternal ? 1 : 2;
}

// The command whose words start argv[1..]: the longest match ("plan convert" before "plan").
const CommandSpec* Find(const std::vector<std::string>& words, size_t& used) {
  for (const CommandSpec& c : Commands()) {
    std::vector<std::string_view> parts;
    for (std::string_view rest = c.words; !rest.empty();) {
      size_t sp = rest.find(' ');
      parts.push_back(rest.substr(0, sp));
      rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    }
    if (words.size() < parts.size()) continue;
    bool match = true;
    for (size_t i = 0; i < parts.size(); ++i) match = match && words[i] == parts[i];
    if (match) {
      used = parts.size();
      return &c;
    }
  }
  return nullptr;
}

int Main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) return http::ServeMain(argc, argv);  // bindings/http
  if (argc > 1 && std::strcmp(argv[1], "credentials") == 0) return http::CredentialsMain(argc, argv);
  if (argc > 2 && std::strcmp(argv[1], "snapshot") == 0 && std::strcmp(argv[2], "pull") == 0)
    return http::PullMain(argc, argv);  // bindings/http/pull.cc
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) return Print(stderr, MainUsage(), 2);
  if (words[0] == "--help" || words[0] == "-h" || words[0] == "help") return Print(stdout, MainUsage(), 0);
  if (words[0] == "--version") return Print(stdout, absl::StrCat("preflight ", ToAbsl(Version()), "\n"), 0);
  size_t used = 0;
  const CommandSpec* command = Find(words, used);
  if (command == nullptr) {
    std::string what = words[0];
    if (words.size() > 1 && words[1][0] != '-') what += " " + words[1];
    return Finish(MakeError(ErrorCode::kInvalidValue,
                            absl::StrCat("unknown command '", what, "' (see 'preflight --help')")));
  }
  try {
    auto args = ParseArgs(*command, std::vector<std::string>(words.begin() + used, words.end()));
    if (!args.ok()) return Finish(args.status());
    if (args->Has("help")) return Print(stdout, CommandHelp(*command), 0);
    return Finish(command->run(*args));
  } catch (const std::exception& e) {
    return Finish(MakeError(ErrorCode::kInternal, absl::StrCat("internal error: ", e.what())));
  }
}

}  // namespace
}  // namespace preflight::cli

int main(int argc, char** argv) { return preflight::cli::Main(argc, argv); }
