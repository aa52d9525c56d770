#include "engine/preflight.h"

#include "absl/strings/str_cat.h"

namespace preflight {

absl::StatusOr<std::shared_ptr<const Engine>> Engine::Load(const std::vector<std::string>& paths,
                                                           const LoadOptions& options) {
  auto snapshot = LoadSnapshot(paths, options);
  if (!snapshot.ok()) return snapshot.status();
  return std::make_shared<const Engine>(*std::move(snapshot), options.limits);
}

absl::StatusOr<CheckResult> Engine::Check(const CheckRequest& request, const CheckOptions& options) const {
  return preflight::Check(*snapshot_, request, options, limits_);
}

absl::StatusOr<std::string> Engine::CheckJson(std::string_view request_json, const CheckOptions& options) const {
  auto request = ParseCheckRequest(request_json, limits_);
  if (!request.ok()) return request.status();
  auto result = Check(*request, options);
  if (!result.ok()) return result.status();
  return CheckResponseJson(*request, *result, options);
}

std::vector<absl::StatusOr<std::string>> Engine::CheckBatchJson(const std::vector<std::string>& requests,
                                                                const CheckOptions& options) const {
  std::vector<absl::StatusOr<std::string>> out;
  if (requests.size() > limits_.max_batch_requests) {
    out.emplace_back(MakeError(ErrorCode::kTooMany, absl::StrCat("batch of ", requests.size(),
                                                                 " requests exceeds the limit of ",
                                                                 limits_.max_batch_requests)));
    return out;
  }
  out.reserve(requests.size());
  for (const std::string& r : requests) out.push_back(CheckJson(r, options));
  return out;
}

}  // namespace preflight
