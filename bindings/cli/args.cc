// Parsing `--name value`, `--name=value` and `--flag` against a command's option table.

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bindings/cli/commands.h"

namespace preflight::cli {
namespace {

const OptionSpec* FindOption(const CommandSpec& command, std::string_view name) {
  for (const OptionSpec& o : command.options)
    if (o.name == name) return &o;
  return nullptr;
}

const OptionSpec* FindShortOption(const CommandSpec& command, char name) {
  for (const OptionSpec& o : command.options)
    if (o.short_name == name) return &o;
  return nullptr;
}

}  // namespace

std::optional<std::string> Args::Get(std::string_view name) const {
  auto it = options.find(name);
  if (it == options.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::All(std::string_view name) const {
  auto it = options.find(name);
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

absl::Status UsageError(const Args& args, std::string_view detail) {
  std::string text = absl::StrCat(ToAbsl(detail), "\nusage: preflight ", ToAbsl(args.command->usage),
                                  "\n(see 'preflight ", ToAbsl(args.command->words), " --help')");
  return MakeError(ErrorCode::kInvalidValue, text);
}

absl::StatusOr<Args> ParseArgs(const CommandSpec& command, const std::vector<std::string>& words) {
  Args args;
  args.command = &command;
  bool only_operands = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (only_operands || w.size() < 2 || w[0] != '-') {
      args.operands.push_back(w);  // "-" is standard input
      continue;
    }
    if (w == "--") {
      only_operands = true;
      continue;
    }
    std::string name = w.substr(2), value;
    if (w[1] != '-') {  // a short name ("-o FILE"), if the command has one
      const OptionSpec* alias = w.size() == 2 ? FindShortOption(command, w[1]) : nullptr;
      if (alias == nullptr) return UsageError(args, absl::StrCat("unknown option '", w, "'"));
      name = std::string(alias->name);
    }
    bool inline_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      inline_value = true;
    }
    const OptionSpec* spec = FindOption(command, name);
    if (spec == nullptr) return UsageError(args, absl::StrCat("unknown option '--", name, "'"));
    if (!spec->takes_value) {
      if (inline_value) return UsageError(args, absl::StrCat("--", name, " takes no value"));
      value = "true";
    } else if (!inline_value) {
      if (i + 1 >= words.size()) return UsageError(args, absl::StrCat("--", name, " needs a value"));
      value = words[++i];
    }
    auto& slot = args.options[name];
    if (!slot.empty() && !spec->repeatable && spec->takes_value)
      return UsageError(args, absl::StrCat("--", name, " given twice"));
    slot.push_back(std::move(value));
  }
  if (args.Has("help")) return args;
  if (args.operands.size() < command.min_operands)
    return UsageError(args, absl::StrCat("'", ToAbsl(command.words), "' needs more arguments"));
  if (args.operands.size() > command.max_operands)
    return UsageError(args, absl::StrCat("unexpected argument '", args.operands[command.max_operands], "'"));
  return args;
}

absl::StatusOr<Limits> LimitsFrom(const Args& args) {
  Limits limits;
  for (const std::string& assignment : args.All("limit")) {
    if (absl::Status s = SetLimit(limits, assignment); !s.ok()) return s;
  }
  return limits;
}

int Indent(const Args& args) { return args.Has("pretty") ? 2 : 0; }

LoadProgressLine::LoadProgressLine() : terminal_(isatty(STDERR_FILENO)) {}

LoadProgressLine::~LoadProgressLine() {
  if (shown_) std::fputs("\r\033[K", stderr);  // the line goes: what stays on stderr is what matters
}

LoadProgressFn LoadProgressLine::Callback() {
  if (!terminal_) return {};
  return [this](const LoadProgress& p) { Show(p); };
}

void LoadProgressLine::Show(const LoadProgress& p) {
  if (p.seconds < 1 || (p.seconds - last_ < 0.1 && p.stage == "read" && p.files < p.files_total)) return;
  last_ = p.seconds;
  shown_ = true;
  const double mb = static_cast<double>(p.bytes) / 1e6;
  std::string line =
      p.stage == "read"
          ? absl::StrFormat("preflight: loading: %zu/%zu files, %.0f/%.0f MB, %zu identities, %.0f MB/s", p.files,
                            p.files_total, mb, static_cast<double>(p.bytes_total) / 1e6, p.identities, mb / p.seconds)
          : absl::StrFormat("preflight: building the snapshot (%s): %zu files, %.0f MB, %zu identities, %.1f s",
                            std::string(p.stage), p.files, mb, p.identities, p.seconds);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

absl::StatusOr<std::shared_ptr<const Engine>> LoadEngine(const Args& args, std::vector<std::string> paths) {
  for (const std::string& p : args.All("snapshot")) paths.push_back(p);
  if (paths.empty()) return UsageError(args, "--snapshot PATH is required");
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  EngineOptions options;
  options.limits = *limits;
  options.allow_partial = args.Has("allow-partial");
  if (auto verify = args.Get("image-verify")) options.image_verify = *verify;
  LoadProgressLine progress;
  options.progress = progress.Callback();
  auto engine = Engine::Load(paths, options);
  if (engine.ok() && (*engine)->info().partial) {
    std::fprintf(stderr,
                 "preflight: warning: partial snapshot (--allow-partial): %zu load errors, %zu policies, %zu "
                 "identities; answers may miss violations\n",
                 (*engine)->info().load_errors, (*engine)->info().policies, (*engine)->info().identities);
  }
  return engine;
}

}  // namespace preflight::cli
