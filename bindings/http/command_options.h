#pragma once
// The options of one `preflight serve` / `credentials` / `snapshot pull` command line, as
// their parsers read them: every value given for each name, in order.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace preflight::http {

struct CommandOptions {
  std::map<std::string, std::vector<std::string>> values;
  std::string error;  // what the parser could not read, "" when nothing
  bool Has(const std::string& name) const { return values.count(name) > 0; }
  // The last value given for `name`.
  std::optional<std::string> Get(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
  }
  std::vector<std::string> All(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  }
};

}  // namespace preflight::http
