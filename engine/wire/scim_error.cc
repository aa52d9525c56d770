#include "engine/wire/scim_error.h"

#include "absl/strings/str_cat.h"
#include "engine/util/error.h"
#include "engine/util/json_writer.h"
#include "engine/util/scim_urns.h"

namespace preflight {

int HttpStatusOf(const absl::Status& status) {
  if (status.ok()) return 200;
  switch (ErrorCodeOf(status)) {
    case ErrorCode::kInternal: return 500;
    case ErrorCode::kNoSuchResource: return 404;
    default: return 400;
  }
}

std::string ScimErrorJson(const absl::Status& status, int indent) {
  JsonWriter w(indent);
  ErrorCode code = ErrorCodeOf(status);
  const int http = HttpStatusOf(status);
  w.BeginObject();
  w.Key("schemas").BeginArray().String(urn::kError).EndArray();
  w.Field("status", absl::StrCat(http));
  // Every input problem carries a SCIM scimType; a missing file or an unsupported
  // construct is an invalid value of the call. RFC 7644 gives 404 and 500 none.
  if (code == ErrorCode::kUnsupported || code == ErrorCode::kNotFound) code = ErrorCode::kInvalidValue;
  if (http == 400) w.Field("scimType", ScimType(code));
  w.Field("detail", std::string(status.message()));
  w.EndObject();
  return w.Take();
}

}  // namespace preflight
