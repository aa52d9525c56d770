#pragma once
// The `preflight` command line: a table of subcommands, each with the options it takes, and
// one function per subcommand that turns parsed arguments into a facade call. Only the
// facade (engine/preflight.h) is used.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/preflight.h"

namespace preflight::cli {

struct OptionSpec {
  std::string_view name;  // without the leading "--"
  bool takes_value = true;
  bool repeatable = false;
  char short_name = 0;  // also accepted as "-x"
};

struct Args;
using Runner = absl::StatusOr<std::string> (*)(const Args&);

struct CommandSpec {
  std::string_view words;  // "check", "plan convert"
  std::string_view usage;  // the synopsis lines after "preflight "
  std::string_view summary;
  std::vector<OptionSpec> options;
  size_t min_operands = 0, max_operands = 0;
  Runner run = nullptr;
};

// Arguments parsed against one command's spec: unknown flags and missing values are errors.
struct Args {
  const CommandSpec* command = nullptr;
  std::vector<std::string> operands;  // after the command words
  std::map<std::string, std::vector<std::string>, std::less<>> options;

  std::optional<std::string> Get(std::string_view name) const;
  std::vector<std::string> All(std::string_view name) const;
  bool Has(std::string_view name) const { return options.count(name) > 0; }
};

absl::StatusOr<Args> ParseArgs(const CommandSpec& command, const std::vector<std::string>& words);

// A usage error: invalidValue with the command's synopsis in the detail.
absl::Status UsageError(const Args& args, std::string_view detail);
// The defaults with every `--limit NAME=N` applied.
absl::StatusOr<Limits> LimitsFrom(const Args& args);
int Indent(const Args& args);
// A load's progress on stderr, one line rewritten in place, when stderr is a terminal and
// the load takes more than a second; nothing otherwise (pipes, tests). Cleared when done.
class LoadProgressLine {
 public:
  LoadProgressLine();
  ~LoadProgressLine();
  LoadProgressFn Callback();  // for EngineOptions::progress; none when not a terminal

 private:
  void Show(const LoadProgress& p);
  bool terminal_;
  bool shown_ = false;
  double last_ = 0;
};

// Loads --snapshot (or the given paths) through the facade, fail-closed unless
// --allow-partial; a partial load writes one warning line on stderr.
absl::StatusOr<std::shared_ptr<const Engine>> LoadEngine(const Args& args, std::vector<std::string> paths);

absl::StatusOr<std::string> RunCheck(const Args& args);
absl::StatusOr<std::string> RunPlanConvert(const Args& args);
absl::StatusOr<std::string> RunPlanCompile(const Args& args);
absl::StatusOr<std::string> RunFilterParse(const Args& args);
absl::StatusOr<std::string> RunFilterEval(const Args& args);
absl::StatusOr<std::string> RunQuery(const Args& args);
absl::StatusOr<std::string> RunSnapshotStats(const Args& args);
absl::StatusOr<std::string> RunSnapshotCompile(const Args& args);
absl::StatusOr<std::string> RunScan(const Args& args);    // scan_commands.cc
absl::StatusOr<std::string> RunImpact(const Args& args);
absl::StatusOr<std::string> RunPlanWorkflow(const Args& args);  // workflow_commands.cc

}  // namespace preflight::cli
