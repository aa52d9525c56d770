#include "engine/util/diagnostic_json.h"

namespace preflight {

void WriteDiagnostics(JsonSink& w, std::string_view key, const std::vector<Diagnostic>& diagnostics) {
  w.Key(key).BeginArray();
  for (const Diagnostic& d : diagnostics) {
    w.BeginObject().Field("severity", SeverityName(d.severity)).Field("code", ScimType(d.code));
    if (!d.object.empty()) w.Field("object", d.object);
    if (!d.where.empty()) w.Field("location", d.where.ToString());
    w.Field("message", d.message).EndObject();
  }
  w.EndArray();
}

}  // namespace preflight
