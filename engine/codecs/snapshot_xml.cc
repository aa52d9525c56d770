// IdentityIQ XML exports -> SnapshotObjects (docs/semantics.md).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <future>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/codecs/snapshot_sources.h"
#include "engine/codecs/snapshot_sources_internal.h"
#include "pugixml.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace preflight {
namespace {

bool IsTrue(const pugi::xml_attribute& a) { return a && absl::EqualsIgnoreCase(a.value(), "true"); }

// Line and column of byte offsets in a text, for offsets that mostly come in increasing
// order (objects are read front to back): counts the newlines between the last offset
// asked and this one instead of indexing every line of a large export up front.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}

  // The 1-based line and column of `offset` (at most the text's size).
  std::pair<int, int> At(size_t offset) {
    offset = std::min(offset, text_.size());
    if (offset < line_start_) {  // an earlier line: count back to it
      for (size_t i = offset; i < line_start_; ++i) line_ -= text_[i] == '\n';
      size_t nl = text_.rfind('\n', offset == 0 ? 0 : offset - 1);
      line_start_ = nl == std::string_view::npos || offset == 0 ? 0 : nl + 1;
      pos_ = offset;
    }
    if (pos_ < offset) {
      // Counted a word at a time (lines are short: a memchr per line costs more).
      if (int lines = CountNewlines(text_.data() + pos_, offset - pos_); lines > 0) {
        line_ += lines;
        size_t nl = offset - 1;
        while (text_[nl] != '\n') --nl;
        line_start_ = nl + 1;
      }
      pos_ = offset;
    }
    return {line_, static_cast<int>(offset - line_start_) + 1};
  }

 private:
  static int CountNewlines(const char* p, size_t n) {
    constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full, kNewlines = 0x0a0a0a0a0a0a0a0aull;
    uint64_t count = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      uint64_t x = w ^ kNewlines;                         // a newline byte is now 0
      uint64_t zero = ~(((x & kLow7) + kLow7) | x | kLow7);  // 0x80 in each 0 byte, exactly
      count += ((zero >> 7) * 0x0101010101010101ull) >> 56;
    }
    for (; i < n; ++i) count += p[i] == '\n';
    return static_cast<int>(count);
  }

  std::string_view text_;
  size_t pos_ = 0;         // newlines before pos_ are counted
  int line_ = 1;           // the line of pos_
  size_t line_start_ = 0;  // where that line starts
};

struct Reader {
  std::string_view text;
  std::string file;
  SnapshotObjects& out;
  int max_depth;
  LineCursor lines{text};
  size_t base = 0;  // where the buffer pugixml parsed starts in `text` (a chunk of objects)
  // Identities and accounts, written straight into chunks as they are read.
  IdentityChunkBuilder identities;
  std::string identity_object;  // "Identity[name]"

  Location Where(const pugi::xml_node& node, std::string object = {}) {
    size_t offset = node.offset_debug() < 0 ? 0 : base + static_cast<size_t>(node.offset_debug());
    Location l;
    l.file = file;
    l.offset = static_cast<int64_t>(offset);
    std::tie(l.line, l.column) = lines.At(offset);
    l.pointer = std::move(object);
    return l;
  }

  void Diag(Severity sev, ErrorCode code, const pugi::xml_node& node, std::string object, std::string message) {
    out.diagnostics.push_back({sev, code, std::move(message), Where(node, object), std::move(object)});
  }

  // The identities and accounts read since the last call, as a chunk of `out`.
  void FlushIdentities() { identities.Finish(out.identity_chunks); }

  // Names of <Reference name=...> children (falling back to id), into `names` (a list of strings).
  template <class List>
  static void References(const pugi::xml_node& parent, List& names) {
    if (!parent) return;
    for (pugi::xml_node ref : parent.children("Reference")) names.emplace_back(std::string_view(NameOf(ref)));
  }
  static std::vector<std::string> References(const pugi::xml_node& parent) {
    std::vector<std::string> names;
    References(parent, names);
    return names;
  }
  IdentityChunk::Run ChunkReferences(const pugi::xml_node& parent) {
    IdentityChunkBuilder::ListWriter names(identities);
    References(parent, names);
    return names.run();
  }
  static const char* NameOf(const pugi::xml_node& ref) {
    const char* name = ref.attribute("name").value();
    return *name ? name : ref.attribute("id").value();
  }
  // The first reference's name, or "".
  static std::string_view FirstReference(const pugi::xml_node& parent) {
    pugi::xml_node ref = parent.child("Reference");
    return ref ? NameOf(ref) : "";
  }
  static std::string ReferenceName(const pugi::xml_node& parent) { return std::string(FirstReference(parent)); }

  // A <value> payload or a <Value> element: String, List, Boolean, Integer, Date...
  // Into a filter's values or an attribute's (ValueList).
  template <class List>
  void CollectValues(const pugi::xml_node& node, List& values, bool& is_list, int depth) {
    if (depth > max_depth) return;
    for (pugi::xml_node child : node.children()) {
      if (child.type() != pugi::node_element) continue;
      std::string_view n = child.name();
      if (n == "List" || n == "Set") {
        is_list = true;
        CollectValues(child, values, is_list, depth + 1);
      } else if (n == "String" || n == "Integer" || n == "Long" || n == "Date" || n == "Boolean") {
        if (n == "Boolean" && !*child.child_value()) values.emplace_back("false");
        else values.emplace_back(child.child_value());
      } else if (n == "Reference") {
        values.emplace_back(child.attribute("name").value());
      }
    }
  }

  // <Attributes><Map><entry key= value=/>...</Map></Attributes>: each attribute's values
  // added to the list start(key) returns, then done(multi), where `multi` says the source
  // held a list. An entry holding a nested map is not an attribute (no done()).
  template <class Start, class Done>
  void ReadAttributeEntries(const pugi::xml_node& attributes, Start start, Done done) {
    pugi::xml_node map = attributes.child("Map");
    for (pugi::xml_node entry : map.children("entry")) {
      auto& values = start(std::string_view(entry.attribute("key").value()));
      bool is_list = false;
      if (pugi::xml_attribute v = entry.attribute("value")) {
        values.emplace_back(std::string_view(v.value()));
      } else if (pugi::xml_node value = entry.child("value")) {
        CollectValues(value, values, is_list, 0);
        if (value.child("Map") || value.child("Attributes")) continue;  // nested maps are not attributes
      }
      done(is_list);
    }
  }
  void ReadAttributeMap(const pugi::xml_node& attributes, std::vector<AttributeObject>& out_attrs) {
    AttributeObject a;
    ReadAttributeEntries(
        attributes,
        [&](std::string_view key) -> ValueList& {
          a = AttributeObject();
          a.name = key;
          return a.values;
        },
        [&](bool multi) {
          a.multi = multi;
          out_attrs.push_back(std::move(a));
        });
  }
  // The same into the identities' chunk.
  IdentityChunk::AttributeRun ChunkAttributes(const pugi::xml_node& attributes) {
    IdentityChunkBuilder::AttributeWriter writer(identities);
    IdentityChunk::Str name = 0;
    ReadAttributeEntries(
        attributes,
        [&](std::string_view key) -> IdentityChunkBuilder::AttributeWriter& {
          name = identities.S(key);
          return writer.Values();
        },
        [&](bool multi) { writer.Add(name, multi); });
    return writer.run();
  }
  // Where(node, the object's usual pointer) as the chunk keeps it (IdentityChunk::kObjectPointer).
  IdentityChunk::Place ChunkPlace(const pugi::xml_node& node) {
    size_t offset = node.offset_debug() < 0 ? 0 : base + static_cast<size_t>(node.offset_debug());
    auto [line, column] = lines.At(offset);
    return identities.ObjectPlace(file, line, column, static_cast<int64_t>(offset));
  }

  std::optional<std::string> Description(const pugi::xml_node& node) {
    if (pugi::xml_node d = node.child("Description")) return std::string(d.child_value());
    // sysDescriptions: locale -> text; prefer en_US, else the first.
    for (pugi::xml_node entry : node.child("Attributes").child("Map").children("entry")) {
      if (std::string_view(entry.attribute("key").value()) != "sysDescriptions") continue;
      std::optional<std::string> first;
      for (pugi::xml_node e : entry.child("value").child("Map").children("entry")) {
        std::string text = e.attribute("value") ? e.attribute("value").value()
                                                : e.child("value").child("String").child_value();
        if (text.empty()) continue;
        if (std::string_view(e.attribute("key").value()) == "en_US") return text;
        if (!first) first = text;
      }
      return first;
    }
    return std::nullopt;
  }

  // The violationRule entry of an object's <Attributes> (a rule name), or "".
  static std::string ViolationRule(const pugi::xml_node& node) {
    for (pugi::xml_node entry : node.child("Attributes").child("Map").children("entry")) {
      if (std::string_view(entry.attribute("key").value()) != "violationRule") continue;
      if (pugi::xml_attribute v = entry.attribute("value")) return v.value();
      return entry.child("value").child("String").child_value();
    }
    return {};
  }

  bool ReadFilter(const pugi::xml_node& node, FilterObject& f, int depth, const std::string& object) {
    if (depth > max_depth) {
      Diag(Severity::kError, ErrorCode::kTooMany, node, object, "filter nested too deeply");
      return false;
    }
    std::string_view n = node.name();
    f.op = node.attribute("operation").value();
    if (n == "CompositeFilter") {
      for (pugi::xml_node child : node.children()) {
        if (child.type() != pugi::node_element) continue;
        std::string_view cn = child.name();
        if (cn != "Filter" && cn != "CompositeFilter") continue;
        FilterObject c;
        if (!ReadFilter(child, c, depth + 1, object)) return false;
        f.children.push_back(std::move(c));
      }
      return true;
    }
    f.property = node.attribute("property").value();
    f.ignore_case = IsTrue(node.attribute("ignoreCase"));
    f.match_mode = node.attribute("matchMode").value();
    if (pugi::xml_attribute v = node.attribute("value")) {
      f.has_value = true;
      f.values.emplace_back(v.value());
    } else if (pugi::xml_node value = node.child("Value")) {
      f.has_value = true;
      CollectValues(value, f.values, f.value_is_list, 0);
    }
    return true;
  }

  void ReadFilters(const pugi::xml_node& parent, std::vector<FilterObject>& out_filters, const std::string& object) {
    for (pugi::xml_node child : parent.children()) {
      if (child.type() != pugi::node_element) continue;
      std::string_view cn = child.name();
      if (cn != "Filter" && cn != "CompositeFilter") continue;
      FilterObject f;
      if (ReadFilter(child, f, 0, object)) out_filters.push_back(std::move(f));
    }
  }

  void ReadRole(const pugi::xml_node& node) {
    RoleObject r;
    r.name = node.attribute("name").value();
    r.id = node.attribute("id").value();
    r.where = Where(node, "Bundle[" + r.name + "]");
    if (r.name.empty()) {
      Diag(Severity::kError, ErrorCode::kInvalidValue, node, "Bundle", "Bundle without a name is skipped");
      return;
    }
    r.display_name = node.attribute("displayName").value();
    r.type = node.attribute("type").value();
    r.disabled = IsTrue(node.attribute("disabled"));
    r.or_profiles = IsTrue(node.attribute("orProfiles"));
    r.inheritance = References(node.child("Inheritance"));
    r.requirements = References(node.child("Requirements"));
    r.permits = References(node.child("Permits"));
    if (auto d = Description(node)) r.description = *d;
    std::string object = "Bundle[" + r.name + "]";
    // Profiles, including the non-standard nesting <Profiles><Profiles><Profile> seen in exports.
    std::vector<pugi::xml_node> stack{node.child("Profiles")};
    int nested = 0;
    while (!stack.empty()) {
      pugi::xml_node profiles = stack.back();
      stack.pop_back();
      if (!profiles) continue;
      for (pugi::xml_node p : profiles.children()) {
        if (std::string_view(p.name()) == "Profiles") {
          if (++nested <= max_depth) stack.push_back(p);
          continue;
        }
        if (std::string_view(p.name()) != "Profile") continue;
        ProfileObject profile;
        profile.application = ReferenceName(p.child("ApplicationRef"));
        ReadFilters(p.child("Constraints"), profile.constraints, object);
        for (pugi::xml_node perm : p.child("Permissions").children("Permission")) {
          PermissionObject po;
          po.target = perm.attribute("target").value();
          for (auto right : absl::StrSplit(perm.attribute("rights").value(), ',', absl::SkipEmpty()))
            po.rights.emplace_back(absl::StripAsciiWhitespace(right));
          profile.permissions.push_back(std::move(po));
        }
        r.profiles.push_back(std::move(profile));
      }
    }
    if (nested)
      Diag(Severity::kWarning, ErrorCode::kInvalidValue, node, object,
           "<Profiles> nested inside <Profiles> (not IdentityIQ's schema); the inner profiles were read");
    out.roles.push_back(std::move(r));
  }

  void ReadMatchTerm(const pugi::xml_node& node, MatchTermObject& t, int depth) {
    t.type = node.attribute("type").value();
    if (IsTrue(node.attribute("permission"))) t.type = "Permission";
    t.application = ReferenceName(node.child("ApplicationRef"));
    t.name = node.attribute("name").value();
    if (pugi::xml_attribute v = node.attribute("value")) t.value = v.value();
    t.container = IsTrue(node.attribute("container"));
    t.and_op = IsTrue(node.attribute("and"));
    t.negative = IsTrue(node.attribute("negative"));
    t.check_effective = IsTrue(node.attribute("checkEffective"));
    if (depth >= max_depth) return;
    for (pugi::xml_node c : node.children("MatchTerm")) {
      MatchTermObject child;
      ReadMatchTerm(c, child, depth + 1);
      t.children.push_back(std::move(child));
    }
  }

  SelectorObject ReadSelector(const pugi::xml_node& node, const std::string& object) {
    SelectorObject s;
    if (pugi::xml_node m = node.child("MatchExpression")) {
      s.has_match_expression = true;
      s.match_and = IsTrue(m.attribute("and"));
      s.match_application = ReferenceName(m.child("ApplicationRef"));
      for (pugi::xml_node t : m.children("MatchTerm")) {
        MatchTermObject term;
        ReadMatchTerm(t, term, 0);
        s.terms.push_back(std::move(term));
      }
    }
    if (pugi::xml_node c = node.child("CompoundFilter")) {
      s.has_compound_filter = true;
      s.compound_applications = References(c.child("Applications"));
      ReadFilters(c, s.compound_filter, object);
    }
    if (pugi::xml_node p = node.child("PopulationRef")) s.population = ReferenceName(p);
    if (pugi::xml_node r = node.child("RuleRef"))
      s.unsupported.push_back("rule '" + ReferenceName(r) + "' (BeanShell)");
    if (node.child("Script")) s.unsupported.push_back("script (BeanShell)");
    return s;
  }

  void ReadPolicy(const pugi::xml_node& node) {
    PolicyObject p;
    p.name = node.attribute("name").value();
    p.id = node.attribute("id").value();
    std::string object = "Policy[" + p.name + "]";
    p.where = Where(node, object);
    if (p.name.empty()) {
      Diag(Severity::kError, ErrorCode::kInvalidValue, node, "Policy", "Policy without a name is skipped");
      return;
    }
    p.type = node.attribute("type").value();
    p.executor = node.attribute("executor").value();
    p.state = node.attribute("state").value();
    p.is_template = IsTrue(node.attribute("template"));
    p.description = Description(node);
    p.violation_rule = ViolationRule(node);
    int position = 0;
    for (pugi::xml_node c : node.child("SODConstraints").children("SODConstraint")) {
      ConstraintObject k;
      k.kind = ConstraintObject::Kind::kRoleSod;
      ReadConstraintCommon(c, k, object, ++position);
      k.left_roles = References(c.child("LeftBundles"));
      k.right_roles = References(c.child("RightBundles"));
      p.constraints.push_back(std::move(k));
    }
    for (pugi::xml_node c : node.child("GenericConstraints").children("GenericConstraint")) {
      ConstraintObject k;
      k.kind = ConstraintObject::Kind::kGeneric;
      ReadConstraintCommon(c, k, object, ++position);
      for (pugi::xml_node s : c.children("IdentitySelector")) k.selectors.push_back(ReadSelector(s, object));
      p.constraints.push_back(std::move(k));
    }
    for (pugi::xml_node list : node.children()) {
      std::string_view ln = list.name();
      if (ln != "ActivityConstraints") continue;
      for (pugi::xml_node c : list.children()) {
        if (c.type() != pugi::node_element) continue;
        ConstraintObject k;
        k.kind = ConstraintObject::Kind::kOther;
        k.element = c.name();
        ReadConstraintCommon(c, k, object, ++position);
        p.constraints.push_back(std::move(k));
      }
    }
    out.policies.push_back(std::move(p));
  }

  void ReadConstraintCommon(const pugi::xml_node& c, ConstraintObject& k, const std::string& object, int position) {
    k.has_name = static_cast<bool>(c.attribute("name"));
    k.name = c.attribute("name").value();
    if (!k.has_name) {
      if (pugi::xml_node summary = c.child("ViolationSummary")) {  // legacy: becomes the name
        k.name = summary.child_value();
        k.has_name = true;
      }
    }
    k.id = c.attribute("id").value();
    k.disabled = IsTrue(c.attribute("disabled"));
    k.description = Description(c);
    k.violation_rule = ViolationRule(c);
    k.where = Where(c, absl::StrCat(object, "/", c.name(), "[", position, "]"));
  }

  // A <Link>, its strings and attributes written into the identities' chunk: its record,
  // for the caller to add (an identity's account, or a standalone one).
  IdentityChunk::Account ReadLink(const pugi::xml_node& node) {
    IdentityChunkBuilder& b = identities;
    IdentityChunk::Account k;
    k.id = b.S(node.attribute("id").value());
    std::string_view identity = FirstReference(node.child("IdentityRef"));
    if (identity.empty()) identity = FirstReference(node.child("Owner"));
    k.identity = b.S(identity);
    std::string_view application = FirstReference(node.child("ApplicationRef"));
    if (application.empty()) application = node.attribute("application").value();
    k.application = b.S(application);
    k.instance = b.S(node.attribute("instance").value());
    std::string_view native_identity = node.attribute("nativeIdentity") ? node.attribute("nativeIdentity").value()
                                                                        : node.attribute("identity").value();
    k.native_identity = b.S(native_identity);
    k.display_name = b.S(node.attribute("displayName").value());
    k.attributes = ChunkAttributes(node.child("Attributes"));
    const IdentityChunk& c = b.chunk();
    c.ForEachAttribute(k.attributes, [&](const IdentityChunk::Attribute& a, std::span<const IdentityChunk::Str> values) {
      std::string_view name = c.Get(a.name());
      if (name != "IIQDisabled" && name != "IIQLocked") return;
      bool flag = !values.empty() && absl::EqualsIgnoreCase(ToAbsl(c.Get(values.front())), "true");
      (name == "IIQDisabled" ? k.disabled : k.locked) = flag;
    });
    k.where = ChunkPlace(node);  // "Link[native identity]"
    return k;
  }

  void ReadIdentity(const pugi::xml_node& node) {
    std::string_view name = node.attribute("name").value();
    if (name.empty()) {
      Diag(Severity::kError, ErrorCode::kInvalidValue, node, "Identity", "Identity without a name is skipped");
      return;
    }
    IdentityChunkBuilder& b = identities;
    IdentityChunk& c = b.chunk();
    identity_object.assign("Identity[").append(name).append("]");
    IdentityChunk::Identity i;
    i.name = b.S(name);
    i.id = b.S(node.attribute("id").value());
    i.display_name = b.S(node.attribute("displayName").value());
    i.inactive = IsTrue(node.attribute("inactive"));
    i.attributes = ChunkAttributes(node.child("Attributes"));
    i.assigned_roles = ChunkReferences(node.child("AssignedRoles"));
    i.detected_roles = ChunkReferences(node.child("Bundles"));
    i.account_ids = IdentityChunkBuilder::ListWriter(b).run();  // none in IdentityIQ XML
    i.accounts.begin = static_cast<uint32_t>(c.accounts.size());
    for (pugi::xml_node link : node.child("Links").children("Link")) {
      IdentityChunk::Account k = ReadLink(link);
      if (c.Get(k.application).empty()) {
        Diag(Severity::kError, ErrorCode::kInvalidValue, link, identity_object, "Link without an application is skipped");
        continue;
      }
      c.accounts.push_back(k);
    }
    i.accounts.size = static_cast<uint32_t>(c.accounts.size()) - i.accounts.begin;
    i.where = ChunkPlace(node);  // "Identity[name]"
    c.identities.push_back(i);
  }

  void ReadApplication(const pugi::xml_node& node) {
    ApplicationObject app;
    app.name = node.attribute("name").value();
    app.id = node.attribute("id").value();
    app.type = node.attribute("type").value();
    app.where = Where(node, "Application[" + app.name + "]");
    if (app.name.empty()) {
      Diag(Severity::kError, ErrorCode::kInvalidValue, node, "Application", "Application without a name is skipped");
      return;
    }
    app.case_insensitive = IsTrue(node.attribute("caseInsensitive"));
    std::vector<AttributeObject> attrs;
    ReadAttributeMap(node.child("Attributes"), attrs);
    for (const auto& a : attrs)
      if (a.name == "caseInsensitive" && !a.values.empty() && absl::EqualsIgnoreCase(ToAbsl(a.values[0]), "true"))
        app.case_insensitive = true;
    for (pugi::xml_node schema : node.child("Schemas").children("Schema")) {
      if (std::string_view(schema.attribute("objectType").value()) != "account") continue;
      app.has_account_schema = true;
      app.identity_attribute = schema.attribute("identityAttribute").value();
      app.display_attribute = schema.attribute("displayAttribute").value();
      for (pugi::xml_node def : schema.children("AttributeDefinition"))
        app.account_schema.push_back({def.attribute("name").value(), IsTrue(def.attribute("multi")),
                                      IsTrue(def.attribute("entitlement"))});
    }
    out.applications.push_back(std::move(app));
  }

  void ReadManagedAttribute(const pugi::xml_node& node) {
    EntitlementObject e;
    e.id = node.attribute("id").value();
    e.application = ReferenceName(node.child("ApplicationRef"));
    e.attribute = node.attribute("attribute").value();
    e.value = node.attribute("value").value();
    e.display_name = node.attribute("displayName").value();
    e.type = node.attribute("type").value();
    e.requestable = !node.attribute("requestable") || IsTrue(node.attribute("requestable"));
    e.where = Where(node, "ManagedAttribute[" + e.attribute + "=" + e.value + "]");
    out.entitlements.push_back(std::move(e));
  }

  // A population: its <GroupFilter> holds one Filter or CompositeFilter.
  void ReadGroupDefinition(const pugi::xml_node& node) {
    GroupDefinitionObject g;
    g.name = node.attribute("name").value();
    g.id = node.attribute("id").value();
    std::string object = "GroupDefinition[" + g.name + "]";
    g.where = Where(node, object);
    if (g.name.empty()) {
      Diag(Severity::kError, ErrorCode::kInvalidValue, node, "GroupDefinition", "GroupDefinition without a name is skipped");
      return;
    }
    std::vector<FilterObject> filters;
    ReadFilters(node.child("GroupFilter"), filters, object);
    if (filters.size() > 1) {
      FilterObject all;  // more than one root: IdentityIQ's Filter is one tree; AND them
      all.op = "AND";
      all.children = std::move(filters);
      g.filter = std::move(all);
    } else if (!filters.empty()) {
      g.filter = std::move(filters.front());
    }
    out.populations.push_back(std::move(g));
  }

  // ObjectConfig "Identity" (the identity attributes a plan may set) and "Bundle" (role
  // types); the other configurations do not change what a check computes.
  void ReadObjectConfig(const pugi::xml_node& node) {
    std::string_view name = node.attribute("name").value();
    if (name == "Identity") {
      out.has_identity_config = true;
      std::vector<pugi::xml_node> stack{node};
      for (int depth = 0; !stack.empty() && depth <= max_depth; ++depth) {
        std::vector<pugi::xml_node> next;
        for (pugi::xml_node parent : stack)
          for (pugi::xml_node c : parent.children()) {
            std::string_view cn = c.name();
            if (cn == "ObjectAttribute") out.identity_attributes.push_back({c.attribute("name").value(), IsTrue(c.attribute("multi"))});
            else if (cn == "ObjectAttributes") next.push_back(c);
          }
        stack = std::move(next);
      }
      return;
    }
    if (name == "Bundle") {
      // <Attributes><Map><entry key="roleTypeDefinitions"><value><List><RoleTypeDefinition .../>
      std::vector<std::pair<pugi::xml_node, int>> stack{{node, 0}};
      while (!stack.empty()) {
        auto [parent, depth] = stack.back();
        stack.pop_back();
        for (pugi::xml_node t : parent.children()) {
          if (t.type() != pugi::node_element) continue;
          if (std::string_view(t.name()) == "RoleTypeDefinition") {
            out.role_types.push_back({t.attribute("name").value(), IsTrue(t.attribute("noDetection")),
                                      IsTrue(t.attribute("noAutoAssignment")),
                                      IsTrue(t.attribute("noManualAssignment")),
                                      IsTrue(t.attribute("noDetectionUnlessAssigned"))});
          } else if (depth < max_depth) {
            stack.push_back({t, depth + 1});
          }
        }
      }
      return;
    }
    Diag(Severity::kWarning, ErrorCode::kUnsupported, node, absl::StrCat("ObjectConfig[", ToAbsl(name), "]"),
         "this ObjectConfig is not part of a snapshot and was ignored");
  }

  void ReadObject(const pugi::xml_node& node) {
    ReadAnyObject(node);
    if (identities.Full()) FlushIdentities();  // chunks' text within IdentityChunk::kMaxText
  }
  void ReadAnyObject(const pugi::xml_node& node) {
    std::string_view n = node.name();
    if (n == "Policy") ReadPolicy(node);
    else if (n == "Bundle") ReadRole(node);
    else if (n == "Identity") ReadIdentity(node);
    else if (n == "Application") ReadApplication(node);
    else if (n == "ManagedAttribute") ReadManagedAttribute(node);
    else if (n == "GroupDefinition") ReadGroupDefinition(node);
    else if (n == "ObjectConfig") ReadObjectConfig(node);
    else if (n == "Link") {
      IdentityChunk::Account k = ReadLink(node);
      if (identities.chunk().Get(k.identity).empty())
        Diag(Severity::kError, ErrorCode::kInvalidValue, node,
             absl::StrCat("Link[", ToAbsl(identities.chunk().Get(k.native_identity)), "]"),
             "standalone Link without an owner Identity (IdentityRef/Owner) is skipped");
      else
        identities.AddStandalone(k);
    } else {
      // ImportAction, MessageTemplate, ProvisioningPlan...:
      // recognised as IIQ content that a snapshot does not use.
      Diag(Severity::kWarning, ErrorCode::kUnsupported, node, std::string(n),
           absl::StrCat("<", ToAbsl(n), "> is not part of a snapshot and was ignored"));
    }
  }
};

// The plain shape of an IdentityIQ export, found without a DOM: a prolog, <sailpoint ...>,
// objects (its child elements) separated by white space and comments only, </sailpoint>,
// then anything. Each object's extent is found by counting start and end tags (minding
// quoted attribute values, comments, CDATA sections and processing instructions); pugixml
// then parses every byte, so a wrong extent is a parse error, never a different object.
class ExportScanner {
 public:
  static constexpr size_t npos = std::string_view::npos;
  explicit ExportScanner(std::string_view text) : t_(text) {}

  // Past the prolog and <sailpoint ...>: where the objects start, or npos when the text
  // does not open that way (a byte order mark, a DOCTYPE with an internal subset, another root).
  size_t Open() {
    size_t p = 0;
    while (true) {
      p = SkipSpace(p);
      if (At(p, "<?")) p = After(p + 2, "?>");
      else if (At(p, "<!--")) p = After(p + 4, "-->");
      else if (At(p, "<!DOCTYPE")) p = After(TagEnd(p + 9, true), ">");
      else break;
      if (p == npos) return npos;
    }
    if (!At(p, "<sailpoint") || p + 10 >= t_.size() || !IsTagBreak(t_[p + 10])) return npos;
    size_t gt = TagEnd(p + 10);
    if (gt == npos || t_[gt - 1] == '/') return npos;
    return gt + 1;
  }

  // From `p` (after an object or the start tag): the next object's start, or npos at
  // </sailpoint> (closed() true) or at anything but white space and comments before it.
  size_t NextObject(size_t p) {
    while (true) {
      p = SkipSpace(p);
      if (At(p, "<!--")) {
        p = After(p + 4, "-->");
        if (p == npos) return npos;
        continue;
      }
      if (At(p, "</sailpoint")) {
        size_t q = SkipSpace(p + 11);
        closed_ = q < t_.size() && t_[q] == '>';
        return npos;
      }
      return p < t_.size() && t_[p] == '<' && IsNameStart(t_[p + 1 < t_.size() ? p + 1 : p]) ? p : npos;
    }
  }

  // The end of the element starting at `p`, or npos.
  size_t ElementEnd(size_t p) const {
    int depth = 0;
    while (true) {
      const char next = p + 1 < t_.size() ? t_[p + 1] : '\0';  // what follows the '<'
      if (next == '/') {
        p = t_.find('>', p + 2);
        if (p == npos) return npos;
        if (--depth == 0) return p + 1;
        ++p;
      } else if (next == '?') {
        p = After(p + 2, "?>");
      } else if (next == '!') {
        if (At(p, "<!--")) p = After(p + 4, "-->");
        else if (At(p, "<![CDATA[")) p = After(p + 9, "]]>");
        else return npos;
      } else {
        size_t gt = TagEnd(p + 1);
        if (gt == npos) return npos;
        if (t_[gt - 1] != '/') ++depth;
        else if (depth == 0) return gt + 1;
        p = gt + 1;
      }
      if (p == npos) return npos;
      const void* lt = std::memchr(t_.data() + p, '<', t_.size() - p);
      if (!lt) return npos;
      p = static_cast<size_t>(static_cast<const char*>(lt) - t_.data());
    }
  }

  bool closed() const { return closed_; }

 private:
  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  static bool IsTagBreak(char c) { return IsSpace(c) || c == '>' || c == '/'; }
  static bool IsNameStart(char c) {
    return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' || (c & 0x80);
  }
  bool At(size_t p, std::string_view s) const { return p < t_.size() && t_.substr(p, s.size()) == s; }
  size_t SkipSpace(size_t p) const {
    while (p < t_.size() && IsSpace(t_[p])) ++p;
    return p;
  }
  size_t After(size_t p, std::string_view end) const {
    size_t q = p == npos ? npos : t_.find(end, p);
    return q == npos ? npos : q + end.size();
  }
  // The '>' ending a tag (or, `doctype`, a DOCTYPE) from `p` on, outside quoted values;
  // npos at the end of the text or at a DOCTYPE's internal subset. Most of the scan's
  // time: it looks 16 bytes at a time for the next quote or '>', then for the quote's end.
  size_t TagEnd(size_t p, bool doctype = false) const {
    while (true) {
      p = FindOneOf(p, '"', '\'', '>', doctype ? '[' : '>');
      if (p == t_.size()) return npos;
      const char c = t_[p];
      if (c == '>') return p;
      if (c == '[') return npos;
      p = FindOneOf(p + 1, c, c, c, c);  // the quoted value's end
      if (p == t_.size()) return npos;
      ++p;
    }
  }
  // The first position from `p` on holding one of a, b, c, d (p <= t_.size()), or t_.size().
  size_t FindOneOf(size_t p, char a, char b, char c, char d) const {
    const char* s = t_.data();
#if defined(__SSE2__)
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c), vd = _mm_set1_epi8(d);
    for (; p + 16 <= t_.size(); p += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + p));
      const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
                                       _mm_or_si128(_mm_cmpeq_epi8(x, vc), _mm_cmpeq_epi8(x, vd)));
      if (const int bits = _mm_movemask_epi8(hit)) return p + static_cast<size_t>(__builtin_ctz(bits));
    }
#endif
    for (; p < t_.size(); ++p)
      if (s[p] == a || s[p] == b || s[p] == c || s[p] == d) return p;
    return t_.size();
  }

  std::string_view t_;
  bool closed_ = false;
};

// Cuts a plain export into chunks of whole objects (and what separates them), about
// kChunkBytes each, in order: [open_end, tail) without gaps, where open_end follows
// <sailpoint ...> and tail is where the last object ends. False when the file is not of
// that shape.
bool SplitIntoChunks(std::string_view text, std::vector<std::pair<size_t, size_t>>& chunks, size_t& open_end,
                     size_t& tail) {
  static constexpr size_t kChunkBytes = 256 << 10;
  ExportScanner scan(text);
  size_t begin = open_end = scan.Open();
  if (begin == ExportScanner::npos) return false;
  size_t end = begin;
  while (true) {
    size_t next = scan.NextObject(end);
    if (next == ExportScanner::npos) {
      if (!scan.closed()) return false;
      if (end > begin) chunks.emplace_back(begin, end);
      tail = end;
      return true;
    }
    end = scan.ElementEnd(next);
    if (end == ExportScanner::npos) return false;
    if (end - begin >= kChunkBytes) {
      chunks.emplace_back(begin, end);
      begin = end;
    }
  }
}

// Reads chunks [from, to) into `out`, each chunk parsed as a fragment; the identities and
// accounts are written into chunks of kPackChunks chunks' worth (`pack`) or given back as
// objects (UnpackIdentities) at the end. False when one does not parse.
bool ReadChunks(std::string_view text, std::string_view file, const Limits& limits,
                const std::vector<std::pair<size_t, size_t>>& chunks, size_t from, size_t to, SnapshotObjects& out,
                bool pack) {
  static constexpr size_t kPackChunks = 16;  // 4 MB of an export: a few thousand objects
  Reader reader{text, std::string(file), out, limits.max_nesting_depth};
  pugi::xml_document doc;
  for (size_t c = from; c < to; ++c) {
    if (pack && c > from && (c - from) % kPackChunks == 0) reader.FlushIdentities();
    auto [begin, end] = chunks[c];
    if (!doc.load_buffer(text.data() + begin, end - begin, pugi::parse_default | pugi::parse_fragment,
                         pugi::encoding_utf8))
      return false;
    reader.base = begin;
    for (pugi::xml_node child : doc.children())
      if (child.type() == pugi::node_element) reader.ReadObject(child);
  }
  reader.FlushIdentities();  // before the next run's chunks are appended after these
  if (!pack) UnpackIdentities(out);  // `out` holds this run's objects only
  return true;
}

// Parses `text` in chunks of whole objects, each chunk its own small document, so memory
// holds one chunk's DOM (per thread) instead of the whole file's. Every byte goes through
// pugixml in the same mode as a whole-document parse: the prolog and the tail (from the
// last object on) as one document, the objects and what separates them as fragments.
// With `threads` > 1 the chunks are shared out in that many consecutive runs, read at
// once and appended in order. False when the file is not of the plain shape or any part
// does not parse; `out` is then untouched.
bool ReadInChunks(std::string_view text, std::string_view file, SnapshotObjects& out, const Limits& limits,
                  int threads, bool pack) {
  std::vector<std::pair<size_t, size_t>> chunks;
  size_t open_end = 0, tail = 0;
  if (!SplitIntoChunks(text, chunks, open_end, tail)) return false;
  {
    std::string skeleton(text.substr(0, open_end));
    skeleton.append(text.substr(tail));
    pugi::xml_document doc;
    if (!doc.load_buffer(skeleton.data(), skeleton.size(), pugi::parse_default, pugi::encoding_utf8) ||
        std::string_view(doc.document_element().name()) != "sailpoint")
      return false;
  }
  const size_t runs = std::max<size_t>(1, std::min(chunks.size(), static_cast<size_t>(std::max(threads, 1))));
  std::vector<SnapshotObjects> parts(runs);
  auto run = [&](size_t r) {
    return ReadChunks(text, file, limits, chunks, r * chunks.size() / runs, (r + 1) * chunks.size() / runs, parts[r],
                      pack);
  };
  std::vector<std::future<bool>> others;
  for (size_t r = 1; r < runs; ++r) others.push_back(std::async(std::launch::async, run, r));
  bool ok = run(0);
  for (auto& f : others) ok = f.get() && ok;
  if (!ok) return false;
  for (SnapshotObjects& part : parts) AppendObjects(out, std::move(part));
  return true;
}

}  // namespace

absl::Status ReadIiqXml(std::string_view text, std::string_view file, SnapshotObjects& out, const Limits& limits) {
  return snapshot_sources_internal::ReadIiqXml(text, file, out, limits, 1);
}

absl::Status snapshot_sources_internal::ReadIiqXml(std::string_view text, std::string_view file, SnapshotObjects& out,
                                                   const Limits& limits, int threads, bool pack) {
  if (ReadInChunks(text, file, out, limits, threads, pack)) return absl::OkStatus();
  return ReadIiqXmlWhole(text, file, out, limits);
}

absl::Status ReadIiqXmlWhole(std::string_view text, std::string_view file, SnapshotObjects& out,
                             const Limits& limits) {
  pugi::xml_document doc;
  // parse_default never expands external entities or reads DTDs; parse_doctype only
  // skips over the DOCTYPE declaration.
  pugi::xml_parse_result result =
      doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!result) {
    return MakeError(ErrorCode::kInvalidSyntax, absl::StrCat("malformed XML: ", result.description()),
                     LocationAt(text, static_cast<size_t>(result.offset), std::string(file)));
  }
  SnapshotObjects part;
  Reader reader{text, std::string(file), part, limits.max_nesting_depth};
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) == "sailpoint") {
    for (pugi::xml_node child : root.children())
      if (child.type() == pugi::node_element) reader.ReadObject(child);
  } else {
    reader.ReadObject(root);
  }
  reader.FlushIdentities();
  UnpackIdentities(part);  // objects, as this reader's callers read them
  AppendObjects(out, std::move(part));
  return absl::OkStatus();
}

}  // namespace preflight
