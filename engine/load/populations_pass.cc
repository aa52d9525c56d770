// The pass "populations": GroupDefinitions (their GroupFilter over identity attributes)
// and ObjectConfig Identity (the identity attributes a plan may set).
#include "absl/strings/str_cat.h"
#include "engine/load/build_context.h"

namespace preflight {

void BuildContext::ResolvePopulations() {
  Snapshot& s = snap;
  for (const GroupDefinitionObject& g : objects.populations) {
    Population pop;
    pop.name = g.name;
    pop.id = g.id;
    if (g.filter) {
      std::string object = "GroupDefinition[" + g.name + "]";
      pop.filter = ConvertFilter(*g.filter, nullptr, g.where, object);
      pop.has_filter = true;
      if (!FilterSupported(pop.filter))
        Diag(Severity::kUnsupported, ErrorCode::kUnsupported,
             absl::StrCat("population filter operation '", UnsupportedOps(pop.filter), "' is not supported; scans never match it"),
             g.where, object);
    }
    s.populations_.push_back(std::move(pop));
  }
  s.has_identity_config_ = objects.has_identity_config;
  for (const IdentityAttributeObject& a : objects.identity_attributes) s.identity_attribute_defs_[Intern(a.name)] = a.multi;
}

}  // namespace preflight
