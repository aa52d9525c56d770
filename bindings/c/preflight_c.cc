// The C ABI (bindings/c/include/preflight/preflight.h) over the facade, engine/preflight.h.
// Each exported function is a thin shell: check the caller's pointers, call the facade,
// copy the result into malloc'd memory, turn a status into a code and a SCIM Error. No
// exception leaves this file.

#define PREFLIGHT_C_BUILD 1
#include "bindings/c/include/preflight/preflight.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/preflight.h"

struct preflight_engine {
  std::shared_ptr<const preflight::Engine> engine;
};
// A reused response text (JsonWriter::Reset keeps its memory).
struct preflight_buffer {
  preflight::JsonWriter text;
};
struct preflight_shared_engine {
  explicit preflight_shared_engine(std::shared_ptr<const preflight::Engine> e) : shared(std::move(e)) {}
  preflight::SharedEngine shared;
};

namespace {

using preflight::ErrorCode;

// A malloc'd copy, so that preflight_string_free is free() whoever allocated.
char* CopyOut(std::string_view s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p == nullptr) return nullptr;
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

int StatusCodeOf(const absl::Status& status) {
  switch (preflight::ErrorCodeOf(status)) {
    case ErrorCode::kInvalidValue: return PREFLIGHT_INVALID_VALUE;
    case ErrorCode::kInvalidSyntax: return PREFLIGHT_INVALID_SYNTAX;
    case ErrorCode::kInvalidFilter: return PREFLIGHT_INVALID_FILTER;
    case ErrorCode::kInvalidPath: return PREFLIGHT_INVALID_PATH;
    case ErrorCode::kTooMany: return PREFLIGHT_TOO_MANY;
    case ErrorCode::kNoTarget: return PREFLIGHT_NO_TARGET;
    case ErrorCode::kUnsupported: return PREFLIGHT_UNSUPPORTED;
    case ErrorCode::kNotFound: return PREFLIGHT_NOT_FOUND;
    case ErrorCode::kNoSuchResource: return PREFLIGHT_NO_SUCH_RESOURCE;
    case ErrorCode::kInternal: return PREFLIGHT_INTERNAL;
  }
  return PREFLIGHT_INTERNAL;
}

// The SCIM Error into *out; the status's code as the return value.
int Fail(const absl::Status& status, char** out, int code) {
  *out = CopyOut(preflight::ScimErrorJson(status));
  return *out == nullptr ? PREFLIGHT_NO_MEMORY : code;
}
int Fail(const absl::Status& status, char** out) { return Fail(status, out, StatusCodeOf(status)); }

int InvalidArgument(char** out, std::string_view what) {
  return Fail(preflight::MakeError(ErrorCode::kInvalidValue, absl::StrCat(preflight::ToAbsl(what), " is NULL")),
              out, PREFLIGHT_INVALID_ARGUMENT);
}

int Succeed(std::string_view result, char** out) {
  *out = CopyOut(result);
  return *out == nullptr ? PREFLIGHT_NO_MEMORY : PREFLIGHT_OK;
}

int Finish(const absl::StatusOr<std::string>& result, char** out) {
  return result.ok() ? Succeed(*result, out) : Fail(result.status(), out);
}

// Runs `body`, turning anything it throws (std::bad_alloc above all) into a code.
template <typename Body>
int Guard(char** out, Body&& body) {
  if (out == nullptr) return PREFLIGHT_INVALID_ARGUMENT;
  *out = nullptr;
  try {
    return body();
  } catch (const std::bad_alloc&) {
    std::free(*out);
    *out = nullptr;
    return PREFLIGHT_NO_MEMORY;
  } catch (const std::exception& e) {
    std::free(*out);
    *out = nullptr;
    try {
      return Fail(preflight::MakeError(ErrorCode::kInternal, absl::StrCat("internal error: ", e.what())), out);
    } catch (...) {
      return PREFLIGHT_NO_MEMORY;
    }
  } catch (...) {
    std::free(*out);
    *out = nullptr;
    return PREFLIGHT_INTERNAL;
  }
}

// Runs `body(&error)` under Guard into `buffer`: what it writes there on success, else the
// SCIM Error it failed with (empty if even that could not be allocated).
template <typename Body>
int GuardInto(preflight_buffer& buffer, Body&& body) {
  char* error = nullptr;
  int code = Guard(&error, [&] { return body(&error); });
  if (code == PREFLIGHT_OK) return code;
  buffer.text.Reset();
  try {
    if (error != nullptr) buffer.text.Raw(error);
  } catch (const std::bad_alloc&) {
    buffer.text.Reset();
    code = PREFLIGHT_NO_MEMORY;
  }
  std::free(error);
  return code;
}

absl::StatusOr<preflight::Limits> LimitsFrom(const char* const* limits, size_t n_limits) {
  preflight::Limits result;
  if (n_limits > 0 && limits == nullptr)
    return preflight::MakeError(ErrorCode::kInvalidValue, "limits is NULL but n_limits is not 0");
  for (size_t i = 0; i < n_limits; ++i) {
    if (limits[i] == nullptr)
      return preflight::MakeError(ErrorCode::kInvalidValue, absl::StrCat("limits[", i, "] is NULL"));
    if (absl::Status s = preflight::SetLimit(result, limits[i]); !s.ok()) return s;
  }
  return result;
}

int IndentOf(unsigned flags) { return (flags & PREFLIGHT_PRETTY) ? 2 : 0; }

preflight::RequestOptions RequestOptionsFrom(unsigned flags) {
  preflight::RequestOptions options;
  options.indent = IndentOf(flags);
  options.explain = (flags & PREFLIGHT_EXPLAIN) != 0;
  return options;
}

std::string_view Text(const char* s) { return s == nullptr ? std::string_view() : std::string_view(s); }

}  // namespace

extern "C" {

void preflight_string_free(char* s) { std::free(s); }

const char* preflight_version(void) { return PREFLIGHT_VERSION; }

const char* preflight_status_scim_type(int status) {
  switch (status) {
    case PREFLIGHT_OK: return "";
    case PREFLIGHT_INVALID_VALUE: return "invalidValue";
    case PREFLIGHT_INVALID_SYNTAX: return "invalidSyntax";
    case PREFLIGHT_INVALID_FILTER: return "invalidFilter";
    case PREFLIGHT_INVALID_PATH: return "invalidPath";
    case PREFLIGHT_TOO_MANY: return "tooMany";
    case PREFLIGHT_NO_TARGET: return "noTarget";
    case PREFLIGHT_UNSUPPORTED: return "invalidValue";
    case PREFLIGHT_NOT_FOUND: return "invalidValue";
    case PREFLIGHT_INVALID_ARGUMENT: return "invalidValue";
    default: return "";  // internal, no memory (500) and no such resource (404) have no scimType
  }
}

int preflight_engine_load(const char* const* paths, size_t n_paths, const char* const* limits, size_t n_limits,
                          unsigned flags, preflight_engine** engine_out, char** out) {
  return Guard(out, [&] {
    if (engine_out == nullptr) return InvalidArgument(out, "engine_out");
    *engine_out = nullptr;
    if (paths == nullptr && n_paths > 0) return InvalidArgument(out, "paths");
    std::vector<std::string> path_list;
    for (size_t i = 0; i < n_paths; ++i) {
      if (paths[i] == nullptr) return InvalidArgument(out, absl::StrCat("paths[", i, "]"));
      path_list.emplace_back(paths[i]);
    }
    preflight::EngineOptions options;
    auto parsed_limits = LimitsFrom(limits, n_limits);
    if (!parsed_limits.ok()) return Fail(parsed_limits.status(), out);
    options.limits = *parsed_limits;
    options.allow_partial = (flags & PREFLIGHT_LOAD_ALLOW_PARTIAL) != 0;
    if ((flags & PREFLIGHT_LOAD_IMAGE_VERIFY_LAZY) != 0) options.image_verify = "lazy";
    auto engine = preflight::Engine::Load(path_list, options);
    if (!engine.ok()) return Fail(engine.status(), out);
    *engine_out = new preflight_engine{*std::move(engine)};
    return static_cast<int>(PREFLIGHT_OK);
  });
}

void preflight_engine_free(preflight_engine* engine) { delete engine; }

int preflight_check(const preflight_engine* engine, const char* request, size_t len, unsigned flags, char** out) {
  return Guard(out, [&] {
    if (engine == nullptr) return InvalidArgument(out, "engine");
    if (request == nullptr) return InvalidArgument(out, "request");
    return Finish(engine->engine->CheckJson(std::string_view(request, len), RequestOptionsFrom(flags)), out);
  });
}

int preflight_buffer_new(preflight_buffer** buffer_out) {
  if (buffer_out == nullptr) return PREFLIGHT_INVALID_ARGUMENT;
  *buffer_out = new (std::nothrow) preflight_buffer;
  return *buffer_out == nullptr ? PREFLIGHT_NO_MEMORY : PREFLIGHT_OK;
}

void preflight_buffer_free(preflight_buffer* buffer) { delete buffer; }

const char* preflight_buffer_data(const preflight_buffer* buffer) {
  return buffer == nullptr ? "" : buffer->text.str().c_str();
}

size_t preflight_buffer_size(const preflight_buffer* buffer) { return buffer == nullptr ? 0 : buffer->text.str().size(); }

int preflight_check_into(const preflight_engine* engine, const char* request, size_t len, unsigned flags,
                         preflight_buffer* out) {
  if (out == nullptr) return PREFLIGHT_INVALID_ARGUMENT;
  return GuardInto(*out, [&](char** error) {
    if (engine == nullptr) return InvalidArgument(error, "engine");
    if (request == nullptr) return InvalidArgument(error, "request");
    preflight::RequestOptions options = RequestOptionsFrom(flags);
    out->text.Reset(options.indent);
    absl::Status checked = engine->engine->CheckJson(std::string_view(request, len), options, out->text);
    return checked.ok() ? static_cast<int>(PREFLIGHT_OK) : Fail(checked, error);
  });
}

int preflight_check_batch(const preflight_engine* engine, const char* const* requests, const size_t* lengths,
                          size_t n, unsigned flags, int* statuses, char** out) {
  return Guard(out, [&] {
    if (engine == nullptr) return InvalidArgument(out, "engine");
    if (requests == nullptr && n > 0) return InvalidArgument(out, "requests");
    std::vector<std::string> bodies;
    bodies.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (requests[i] == nullptr) return InvalidArgument(out, absl::StrCat("requests[", i, "]"));
      bodies.emplace_back(requests[i], lengths != nullptr ? lengths[i] : std::strlen(requests[i]));
    }
    preflight::RequestOptions options = RequestOptionsFrom(flags);
    auto batch = engine->engine->CheckBatchJson(bodies, options);
    if (!batch.ok()) return Fail(batch.status(), out);  // over max_batch_requests
    const auto& results = *batch;
    if (results.size() != n)
      return Fail(preflight::MakeError(ErrorCode::kInternal, "batch result count mismatch"), out);
    std::string array = "[";
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) array += options.indent ? ",\n" : ",";
      if (results[i].ok()) {
        array += *results[i];
      } else {
        array += preflight::ScimErrorJson(results[i].status(), options.indent);
      }
      if (statuses != nullptr) statuses[i] = results[i].ok() ? PREFLIGHT_OK : StatusCodeOf(results[i].status());
    }
    array += "]";
    return Succeed(array, out);
  });
}

int preflight_engine_info(const preflight_engine* engine, char** out) {
  return Guard(out, [&] {
    if (engine == nullptr) return InvalidArgument(out, "engine");
    const preflight::EngineInfo& info = engine->engine->info();
    // Hex, integers, a boolean and a double: nothing that needs escaping.
    return Succeed(absl::StrCat("{\"sourceHash\":\"", info.source_hash, "\",\"identities\":", info.identities,
                                ",\"policies\":", info.policies, ",\"loadErrors\":", info.load_errors,
                                ",\"partial\":", info.partial ? "true" : "false", ",\"loadMs\":", info.load_ms, "}"),
                   out);
  });
}

int preflight_stats(const preflight_engine* engine, unsigned flags, char** out) {
  return Guard(out, [&] {
    if (engine == nullptr) return InvalidArgument(out, "engine");
    return Succeed(engine->engine->StatsJson(IndentOf(flags)), out);
  });
}

int preflight_diagnostics(const preflight_engine* engine, unsigned flags, char** out) {
  return Guard(out, [&] {
    if (engine == nullptr) return InvalidArgument(out, "engine");
    return Succeed(engine->engine->DiagnosticsJson(IndentOf(flags)), out);
  });
}

int preflight_query(const preflight_engine* engine, const char* resource_type, const char* filter,
                    const char* attributes, const char* excluded_attributes, const char* sort_by,
                    const char* sort_order, int64_t start_index, int64_t count, char** out) {
  return Guard(out, [&] {
    if (engine == nullptr) return InvalidArgument(out, "engine");
    if (resource_type == nullptr) return InvalidArgument(out, "resource_type");
    preflight::QueryParams params;
    params.resource_type = resource_type;
    params.filter = std::string(Text(filter));
    if (attributes != nullptr) params.attributes = preflight::SplitAttributeList(attributes);
    if (excluded_attributes != nullptr) params.excluded_attributes = preflight::SplitAttributeList(excluded_attributes);
    params.sort_by = std::string(Text(sort_by));
    params.sort_order = std::string(Text(sort_order));
    if (start_index >= 0) params.start_index = start_index;
    if (count >= 0) params.count = count;
    return Finish(engine->engine->QueryJson(params), out);
  });
}

int preflight_resource(const preflight_engine* engine, const char* resource_type, const char* id,
                       const char* attributes, const char* excluded_attributes, char** out) {
  return Guard(out, [&] {
    if (engine == nullptr) return InvalidArgument(out, "engine");
    if (resource_type == nullptr) return InvalidArgument(out, "resource_type");
    if (id == nullptr) return InvalidArgument(out, "id");
    std::vector<std::string> attrs, excluded;
    if (attributes != nullptr) attrs = preflight::SplitAttributeList(attributes);
    if (excluded_attributes != nullptr) excluded = preflight::SplitAttributeList(excluded_attributes);
    return Finish(engine->engine->ResourceJson(resource_type, id, attrs, excluded), out);
  });
}

int preflight_compile(const preflight_engine* engine, const char* identity, const char* plan, size_t plan_len,
                      const char* plan_type, unsigned flags, char** out) {
  return Guard(out, [&] {
    if (engine == nullptr) return InvalidArgument(out, "engine");
    if (identity == nullptr) return InvalidArgument(out, "identity");
    if (plan == nullptr) return InvalidArgument(out, "plan");
    return Finish(engine->engine->CompileJson(identity, std::string_view(plan, plan_len), Text(plan_type),
                                              IndentOf(flags)),
                  out);
  });
}

int preflight_plan_convert(const char* plan, size_t len, const char* to, const char* from, unsigned flags,
                           const char* const* limits, size_t n_limits, char** out) {
  return Guard(out, [&] {
    if (plan == nullptr) return InvalidArgument(out, "plan");
    if (to == nullptr) return InvalidArgument(out, "to");
    auto parsed_limits = LimitsFrom(limits, n_limits);
    if (!parsed_limits.ok()) return Fail(parsed_limits.status(), out);
    return Finish(preflight::ConvertPlan(std::string_view(plan, len), to, Text(from), IndentOf(flags), *parsed_limits),
                  out);
  });
}

int preflight_filter_parse(const char* filter, const char* const* limits, size_t n_limits, char** out) {
  return Guard(out, [&] {
    if (filter == nullptr) return InvalidArgument(out, "filter");
    auto parsed_limits = LimitsFrom(limits, n_limits);
    if (!parsed_limits.ok()) return Fail(parsed_limits.status(), out);
    return Finish(preflight::FilterSexpr(filter, *parsed_limits), out);
  });
}

int preflight_filter_eval(const char* filter, const char* resource, size_t len, const char* const* limits,
                          size_t n_limits, int* match, char** out) {
  return Guard(out, [&] {
    if (match != nullptr) *match = 0;
    if (filter == nullptr) return InvalidArgument(out, "filter");
    if (resource == nullptr) return InvalidArgument(out, "resource");
    auto parsed_limits = LimitsFrom(limits, n_limits);
    if (!parsed_limits.ok()) return Fail(parsed_limits.status(), out);
    auto result = preflight::EvalFilter(filter, std::string_view(resource, len), *parsed_limits);
    if (!result.ok()) return Fail(result.status(), out);
    if (match != nullptr) *match = *result ? 1 : 0;
    return Succeed(*result ? "true" : "false", out);
  });
}

int preflight_shared_new(const preflight_engine* engine, preflight_shared_engine** shared_out, char** out) {
  return Guard(out, [&] {
    if (shared_out == nullptr) return InvalidArgument(out, "shared_out");
    *shared_out = nullptr;
    if (engine == nullptr) return InvalidArgument(out, "engine");
    *shared_out = new preflight_shared_engine(engine->engine);
    return static_cast<int>(PREFLIGHT_OK);
  });
}

int preflight_shared_get(const preflight_shared_engine* shared, preflight_engine** engine_out, char** out) {
  return Guard(out, [&] {
    if (engine_out == nullptr) return InvalidArgument(out, "engine_out");
    *engine_out = nullptr;
    if (shared == nullptr) return InvalidArgument(out, "shared");
    *engine_out = new preflight_engine{shared->shared.Get()};
    return static_cast<int>(PREFLIGHT_OK);
  });
}

int preflight_shared_swap(preflight_shared_engine* shared, const preflight_engine* engine, char** out) {
  return Guard(out, [&] {
    if (shared == nullptr) return InvalidArgument(out, "shared");
    if (engine == nullptr) return InvalidArgument(out, "engine");
    shared->shared.Swap(engine->engine);
    return static_cast<int>(PREFLIGHT_OK);
  });
}

void preflight_shared_free(preflight_shared_engine* shared) { delete shared; }

}  // extern "C"
