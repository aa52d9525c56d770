#pragma once
// One function per `preflight` subcommand: parsed arguments in, JSON text out.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/util/limits.h"

namespace preflight::cli {

struct Args {
  Args(int argc, char** argv);
  std::vector<std::string> positional;  // command, subcommand, operands
  std::map<std::string, std::vector<std::string>> options;
  std::optional<std::string> missing_value;

  std::optional<std::string> Get(const std::string& name) const;
  std::vector<std::string> All(const std::string& name) const;
  static bool IsFlag(const std::string& name);
};

absl::Status Usage(std::string_view detail);
// The defaults with every `--limit NAME=N` applied.
absl::StatusOr<Limits> LimitsFrom(const Args& args);

absl::StatusOr<std::string> RunCheck(const Args& args);
absl::StatusOr<std::string> RunPlanConvert(const Args& args);
absl::StatusOr<std::string> RunPlanCompile(const Args& args);
absl::StatusOr<std::string> RunFilterParse(const Args& args);
absl::StatusOr<std::string> RunFilterEval(const Args& args);
absl::StatusOr<std::string> RunQuery(const Args& args);
absl::StatusOr<std::string> RunSnapshotStats(const Args& args);

}  // namespace preflight::cli
