#include "bindings/http/scim_json.h"

#include <simdjson.h>

#include <cctype>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "bindings/http/cat.h"

namespace preflight::http {

namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

absl::Status Syntax(std::string_view what, std::string_view detail) {
  return absl::InvalidArgumentError(Cat(what, ": ", detail));
}

absl::StatusOr<std::vector<std::string>> StringList(simdjson::dom::element e, std::string_view name) {
  std::vector<std::string> out;
  if (e.is_string()) {  // "a,b" as in a query string
    std::string_view s = e.get_string().value_unsafe();
    size_t start = 0;
    while (start <= s.size()) {
      size_t comma = s.find(',', start);
      if (comma == std::string_view::npos) comma = s.size();
      std::string_view item = s.substr(start, comma - start);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (!item.empty()) out.emplace_back(item);
      start = comma + 1;
    }
    return out;
  }
  simdjson::dom::array array;
  if (e.get_array().get(array)) return Syntax("SearchRequest", Cat("'", name, "' must be a list of strings"));
  for (simdjson::dom::element item : array) {
    std::string_view s;
    if (item.get_string().get(s)) return Syntax("SearchRequest", Cat("'", name, "' must be a list of strings"));
    out.emplace_back(s);
  }
  return out;
}

absl::StatusOr<int64_t> Integer(simdjson::dom::element e, std::string_view what, std::string_view name) {
  int64_t v = 0;
  if (e.get_int64().get(v)) {
    double d = 0;
    if (e.get_double().get(d) || d != static_cast<double>(static_cast<int64_t>(d)))
      return absl::InvalidArgumentError(Cat(what, ": '", name, "' must be an integer"));
    v = static_cast<int64_t>(d);
  }
  return v;
}

}  // namespace

absl::StatusOr<SearchRequest> ParseSearchRequest(std::string_view body) {
  simdjson::dom::element root;
  if (auto err = Parser().parse(body.data(), body.size()).get(root))
    return Syntax("SearchRequest", Cat("not valid JSON (", simdjson::error_message(err), ")"));
  simdjson::dom::object object;
  if (root.get_object().get(object)) return Syntax("SearchRequest", "the body must be a JSON object");
  SearchRequest out;
  for (auto [key, value] : object) {
    if (EqualsNoCase(key, "filter")) {
      std::string_view s;
      if (value.get_string().get(s)) return Syntax("SearchRequest", "'filter' must be a string");
      out.filter = s;
    } else if (EqualsNoCase(key, "attributes")) {
      auto list = StringList(value, "attributes");
      if (!list.ok()) return list.status();
      out.attributes = *std::move(list);
    } else if (EqualsNoCase(key, "excludedAttributes")) {
      auto list = StringList(value, "excludedAttributes");
      if (!list.ok()) return list.status();
      out.excluded_attributes = *std::move(list);
    } else if (EqualsNoCase(key, "sortBy")) {
      std::string_view s;
      if (value.get_string().get(s)) return Syntax("SearchRequest", "'sortBy' must be a string");
      out.sort_by = s;
    } else if (EqualsNoCase(key, "sortOrder")) {
      std::string_view s;
      if (value.get_string().get(s)) return Syntax("SearchRequest", "'sortOrder' must be a string");
      out.sort_order = s;
    } else if (EqualsNoCase(key, "startIndex")) {
      auto v = Integer(value, "SearchRequest", "startIndex");
      if (!v.ok()) return v.status();
      out.start_index = *v;
    } else if (EqualsNoCase(key, "count")) {
      auto v = Integer(value, "SearchRequest", "count");
      if (!v.ok()) return v.status();
      out.count = *v;
    }
  }
  return out;
}

absl::StatusOr<BulkRequest> ParseBulkRequest(std::string_view body, size_t max_operations) {
  simdjson::dom::element root;
  if (auto err = Parser().parse(body.data(), body.size()).get(root))
    return Syntax("BulkRequest", Cat("not valid JSON (", simdjson::error_message(err), ")"));
  simdjson::dom::object object;
  if (root.get_object().get(object)) return Syntax("BulkRequest", "the body must be a JSON object");
  BulkRequest out;
  bool has_operations = false;
  for (auto [key, value] : object) {
    if (EqualsNoCase(key, "failOnErrors")) {
      auto v = Integer(value, "BulkRequest", "failOnErrors");
      if (!v.ok()) return v.status();
      out.fail_on_errors = *v;
    } else if (EqualsNoCase(key, "Operations")) {
      simdjson::dom::array ops;
      if (value.get_array().get(ops)) return Syntax("BulkRequest", "'Operations' must be a list");
      has_operations = true;
      if (ops.size() > max_operations)
        return absl::ResourceExhaustedError(Cat("The bulk request holds ", ops.size(),
                                                         " operations; maxOperations is ", max_operations, "."));
      for (simdjson::dom::element op : ops) {
        simdjson::dom::object fields;
        if (op.get_object().get(fields)) return Syntax("BulkRequest", "each operation must be a JSON object");
        BulkOperation operation;
        for (auto [name, v] : fields) {
          std::string_view s;
          if (EqualsNoCase(name, "method")) {
            if (v.get_string().get(s)) return Syntax("BulkRequest", "an operation's 'method' must be a string");
            operation.method = s;
          } else if (EqualsNoCase(name, "path")) {
            if (v.get_string().get(s)) return Syntax("BulkRequest", "an operation's 'path' must be a string");
            operation.path = s;
          } else if (EqualsNoCase(name, "bulkId")) {
            if (v.get_string().get(s)) return Syntax("BulkRequest", "an operation's 'bulkId' must be a string");
            operation.bulk_id = std::string(s);
          } else if (EqualsNoCase(name, "data")) {
            operation.data = simdjson::minify(v);
          }
        }
        if (operation.method.empty()) return Syntax("BulkRequest", "every operation needs a 'method'");
        if (operation.path.empty()) return Syntax("BulkRequest", "every operation needs a 'path'");
        out.operations.push_back(std::move(operation));
      }
    }
  }
  if (!has_operations) return Syntax("BulkRequest", "'Operations' is required");
  return out;
}

namespace {

const absl::flat_hash_map<std::string, std::string>& Schemas() {
  static const auto* schemas = [] {
    auto* map = new absl::flat_hash_map<std::string, std::string>();
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(kScimSchemasJson.data(), kScimSchemasJson.size()).get(root)) return map;
    simdjson::dom::array array;
    if (root.get_array().get(array)) return map;
    for (simdjson::dom::element e : array) {
      std::string_view id;
      if (e["id"].get_string().get(id)) continue;
      (*map)[std::string(id)] = simdjson::minify(e);
    }
    return map;
  }();
  return *schemas;
}

}  // namespace

std::optional<std::string> SchemaById(std::string_view id) {
  auto it = Schemas().find(std::string(id));
  if (it == Schemas().end()) return std::nullopt;
  return it->second;
}

size_t SchemaCount() { return Schemas().size(); }

}  // namespace preflight::http
