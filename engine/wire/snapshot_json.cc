#include "engine/wire/snapshot_json.h"

#include <sys/resource.h>

#include "engine/model/snapshot.h"
#include "engine/util/diagnostic_json.h"
#include "engine/util/json_writer.h"

namespace preflight {
namespace {

int64_t PeakRssBytes() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace

std::string SnapshotStatsJson(const Snapshot& s, int indent) {
  Snapshot::Stats st = s.stats();
  const LoadTimings& t = s.timings();
  JsonWriter w(indent);
  w.BeginObject();
  w.Key("counts").BeginObject();
  w.Key("identities").Int(st.identities).Key("accounts").Int(st.accounts).Key("roles").Int(st.roles);
  w.Key("policies").Int(st.policies).Key("constraints").Int(st.constraints);
  w.Key("applications").Int(st.applications).Key("entitlements").Int(st.entitlements);
  w.Key("roleAssignments").Int(st.role_assignments).Key("entitlementValues").Int(st.entitlement_values);
  w.Key("strings").Int(st.strings);
  // Identities whose stored detected roles match a fresh detection (checks on them
  // re-detect only what the plan touches), and whose assigned roles are fully provisioned.
  w.Key("consistentDetection").Int(st.consistent_detection).Key("provisionedAssignments").Int(st.expansion_noop);
  w.EndObject();
  // The model's bytes (approxBytes, the sum of the parts), by part; the process's peak
  // resident set so far (the load's peak, for a CLI call).
  w.Key("memory").BeginObject().Key("approxBytes").Int(st.approx_bytes);
  w.Key("parts").BeginObject();
  for (const auto& [name, bytes] : st.parts) w.Key(name).Int(bytes);
  w.EndObject();
  w.Key("peakRssBytes").Int(PeakRssBytes()).EndObject();
  w.Key("load").BeginObject().Key("files").Int(t.files).Key("bytes").Int(t.bytes);
  w.Key("readMs").Double(t.read_ms).Key("parseMs").Double(t.parse_ms).Key("buildMs").Double(t.build_ms);
  // The build's named passes, in the order they ran (engine/load/).
  w.Key("passes").BeginArray();
  for (const LoadTimings::Pass& p : t.passes) w.BeginObject().Field("name", p.name).Key("ms").Double(p.ms).EndObject();
  w.EndArray();
  w.Field("sourceHash", s.source_hash()).EndObject();
  if (const std::optional<ImageInfo>& image = s.image()) {  // opened from a compiled image
    w.Key("image").BeginObject().Key("formatVersion").Int(image->format_version);
    w.Key("fileBytes").Int(image->file_bytes).Key("openMs").Double(image->open_ms);
    w.Key("openCpuMs").Double(image->open_cpu_ms).Key("verify").String(image->verify);
    // A lazy open's columns: "verifying" (in the background), "verified" or "failed".
    if (const ImageVerification* v = s.image_verification()) w.Key("columns").String(v->name());
    w.EndObject();
  }
  WriteDiagnostics(w, "diagnostics", s.diagnostics());
  w.EndObject();
  return w.Take();
}

std::string DiagnosticsJson(const std::vector<Diagnostic>& diagnostics, int indent) {
  JsonWriter w(indent);
  w.BeginObject();
  WriteDiagnostics(w, "d", diagnostics);
  w.EndObject();
  // The array alone: what follows `{"d":` up to the closing brace.
  std::string out = w.Take();
  size_t begin = out.find('[');
  size_t end = out.rfind(']');
  return out.substr(begin, end - begin + 1);
}

}  // namespace preflight
