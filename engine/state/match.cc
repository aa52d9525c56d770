#include "engine/state/match.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace preflight {
namespace {

std::optional<AttrView> FindAttr(const AttrList& attrs, Id name) { return attrs.Find(name); }

bool Equal(const MatchContext& ctx, Id a, Id b, bool ignore_case) {
  if (a == b) return true;
  return ignore_case && absl::EqualsIgnoreCase(ToAbsl(ctx.Text(a)), ToAbsl(ctx.Text(b)));
}

bool Contains(const MatchContext& ctx, std::span<const Id> values, Id v, bool ignore_case) {
  for (Id x : values)
    if (Equal(ctx, x, v, ignore_case)) return true;
  return false;
}

bool Like(const MatchContext& ctx, Id value, Id pattern, Filter::MatchMode mode, bool ignore_case) {
  std::string v(ctx.Text(value)), p(ctx.Text(pattern));
  if (ignore_case) {
    absl::AsciiStrToLower(&v);
    absl::AsciiStrToLower(&p);
  }
  switch (mode) {
    case Filter::MatchMode::kStart: return absl::StartsWith(v, p);
    case Filter::MatchMode::kEnd: return absl::EndsWith(v, p);
    case Filter::MatchMode::kAnywhere: return absl::StrContains(v, p);
    case Filter::MatchMode::kExact: return v == p;
  }
  return false;
}

// Numbers compare numerically, everything else as text (Java Comparable on the
// stored type; IIQ stores numbers as Integer/Long).
int Compare(const MatchContext& ctx, Id a, Id b, bool ignore_case) {
  std::string_view x = ctx.Text(a), y = ctx.Text(b);
  long long xi, yi;
  auto rx = std::from_chars(x.data(), x.data() + x.size(), xi);
  auto ry = std::from_chars(y.data(), y.data() + y.size(), yi);
  if (rx.ec == std::errc() && rx.ptr == x.data() + x.size() && ry.ec == std::errc() && ry.ptr == y.data() + y.size())
    return xi < yi ? -1 : xi > yi ? 1 : 0;
  if (ignore_case) {
    std::string lx = absl::AsciiStrToLower(ToAbsl(x)), ly = absl::AsciiStrToLower(ToAbsl(y));
    return lx.compare(ly);
  }
  return x.compare(y);
}

bool Leaf(const MatchContext& ctx, const Filter& f, const std::optional<AttrView>& attr) {
  bool present = attr && !attr->values.empty();
  switch (f.op) {
    case Filter::Op::kIsNull: return !present;
    case Filter::Op::kNotNull: return present;
    case Filter::Op::kIsEmpty: return !present;
    default: break;
  }
  if (f.op == Filter::Op::kContainsAll) {
    // The account value, a list or a scalar promoted to a list, holds every value.
    if (!present) return f.values.empty() && attr;
    for (Id v : f.values)
      if (!Contains(ctx, attr->values, v, f.ignore_case)) return false;
    return true;
  }
  if (f.op == Filter::Op::kEq || f.op == Filter::Op::kNe) {
    // filterValue.equals(accountValue): a list never equals a scalar.
    bool eq;
    if (!f.has_value) eq = !present;
    else if (!present) eq = false;
    else if (f.value_is_list)
      eq = attr->multi && attr->values.size() == f.values.size() &&
           std::equal(f.values.begin(), f.values.end(), attr->values.begin(),
                      [&](Id a, Id b) { return Equal(ctx, a, b, f.ignore_case); });
    else
      eq = !attr->multi && attr->values.size() == 1 && !f.values.empty() &&
           Equal(ctx, attr->values[0], f.values[0], f.ignore_case);
    return f.op == Filter::Op::kEq ? eq : !eq;
  }
  if (!present || f.values.empty()) return false;
  // IN, LIKE and ordering: any value of the attribute may satisfy the leaf.
  for (Id v : attr->values) {
    switch (f.op) {
      case Filter::Op::kIn:
        if (Contains(ctx, f.values, v, f.ignore_case)) return true;
        break;
      case Filter::Op::kLike:
        if (Like(ctx, v, f.values[0], f.match_mode, f.ignore_case)) return true;
        break;
      case Filter::Op::kLt:
        if (Compare(ctx, v, f.values[0], f.ignore_case) < 0) return true;
        break;
      case Filter::Op::kGt:
        if (Compare(ctx, v, f.values[0], f.ignore_case) > 0) return true;
        break;
      case Filter::Op::kLe:
        if (Compare(ctx, v, f.values[0], f.ignore_case) <= 0) return true;
        break;
      case Filter::Op::kGe:
        if (Compare(ctx, v, f.values[0], f.ignore_case) >= 0) return true;
        break;
      default: return false;
    }
  }
  return false;
}

template <typename LeafFn>
bool Eval(const Filter& f, const LeafFn& leaf) {
  switch (f.op) {
    case Filter::Op::kAnd:
      for (const Filter& c : f.children)
        if (!Eval(c, leaf)) return false;
      return true;
    case Filter::Op::kOr:
      for (const Filter& c : f.children)
        if (Eval(c, leaf)) return true;
      return false;
    case Filter::Op::kNot: return f.children.empty() ? false : !Eval(f.children[0], leaf);
    case Filter::Op::kUnsupported: return false;
    default: return leaf(f);
  }
}

bool PermissionsSatisfied(const std::vector<Permission>& needed, const PermissionList& held) {
  for (const Permission& n : needed) {
    bool ok = false;
    for (PermissionView h : held) {
      if (h.target != n.target) continue;
      ok = std::all_of(n.rights.begin(), n.rights.end(), [&](Id r) {
        return std::find(h.rights.begin(), h.rights.end(), r) != h.rights.end();
      });
      if (ok) break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool FilterMatches(const MatchContext& ctx, const Filter& filter, AttrList attributes) {
  return Eval(filter, [&](const Filter& f) { return Leaf(ctx, f, FindAttr(attributes, f.property)); });
}

bool FilterMatches(const MatchContext& ctx, const Filter& filter, const AccountState& account) {
  return Eval(filter, [&](const Filter& f) { return Leaf(ctx, f, account.Find(f.property)); });
}

bool CompoundFilterMatches(const MatchContext& ctx, const Filter& filter, const IdentityState& state,
                           AttrList identity_attributes) {
  return Eval(filter, [&](const Filter& f) {
    if (!f.compound_account) return Leaf(ctx, f, FindAttr(identity_attributes, f.property));
    // Matchmaker.CubeMatcher.getLink: the identity's first account on that application
    // (Identity.getLink(app, null, null)); without one the value is null.
    for (const AccountState& a : state.accounts)
      if (a.application == f.application) return Leaf(ctx, f, a.Find(f.property));
    return Leaf(ctx, f, std::nullopt);
  });
}

bool ProfilesMatch(const MatchContext& ctx, const Role& role, const IdentityState& state) {
  if (role.profiles.empty()) return false;
  for (const Profile& p : role.profiles) {
    bool matched = false;
    for (const AccountState& a : state.accounts) {
      if (a.application != p.application) continue;
      bool all = std::all_of(p.constraints.begin(), p.constraints.end(),
                             [&](const Filter& f) { return FilterMatches(ctx, f, a); });
      if (all && PermissionsSatisfied(p.permissions, a.permissions())) {
        matched = true;
        break;
      }
    }
    if (matched && role.or_profiles) return true;
    if (!matched && !role.or_profiles) return false;
  }
  return !role.or_profiles;
}

namespace {

// Matchmaker.TermMatcher.getMatchingLeaves: the term once per account it matches on
// (a permission term once per matching permission), or once for an identity
// attribute; a negative term is listed once when nothing matched, and not otherwise.
int LeafMatches(const MatchContext& ctx, const MatchTerm& t, const IdentityState& state,
                AttrList identity_attributes) {
  int count = 0;
  if (t.name_text.empty()) {
    // A term without a name matches nothing.
  } else if (t.application == kNoIndex) {
    // No application: an identity attribute.
    std::optional<AttrView> a = FindAttr(identity_attributes, t.name);
    bool present = a && !a->values.empty();
    count = (t.value_null ? !present : present && Contains(ctx, a->values, t.value, false)) ? 1 : 0;
  } else {
    for (const AccountState& a : state.accounts) {
      if (a.application != t.application) continue;
      if (t.type == MatchTerm::Type::kPermission) {
        if (a.permissions().empty()) {
          if (t.value_null) ++count;  // no permission at all "matches" a null value
        } else if (!t.value_null) {
          for (PermissionView p : a.permissions())
            if (p.target == t.name && std::find(p.rights.begin(), p.rights.end(), t.value) != p.rights.end()) ++count;
        }
      } else {
        std::optional<AttrView> v = a.Find(t.name);
        bool present = v && !v->values.empty();
        if (t.value_null ? !present : present && Contains(ctx, v->values, t.value, false)) ++count;
      }
    }
  }
  if (t.negative) return count == 0 ? 1 : 0;
  return count;
}

bool TermMatches(const MatchContext& ctx, const MatchTerm& t, const IdentityState& state,
                 AttrList ids);

// ExpressionMatcher.match and a container's match: stop at the first false (and) or
// the first true (or); the answer is the last term's (false for no terms).
bool TermsMatch(const MatchContext& ctx, const std::vector<MatchTerm>& terms, bool and_op, const IdentityState& state,
                AttrList ids) {
  bool match = false;
  for (const MatchTerm& t : terms) {
    match = TermMatches(ctx, t, state, ids);
    if (match != and_op) break;
  }
  return match;
}

bool TermMatches(const MatchContext& ctx, const MatchTerm& t, const IdentityState& state,
                 AttrList ids) {
  if (t.container) return TermsMatch(ctx, t.children, t.and_op, state, ids);
  return LeafMatches(ctx, t, state, ids) > 0;
}

// Both answers at once, as a violated EntitlementSOD constraint needs them: whether
// the term matches (TermMatcher.match) and, appended to `out`, what
// TermMatcher.getMatches lists for it (a container lists its children's matches
// whatever its own `and` says, so every child is evaluated).
bool MatchAndCollect(const MatchContext& ctx, const MatchTerm& t, const IdentityState& state,
                     AttrList ids, std::vector<const MatchTerm*>& out) {
  if (!t.container) {
    int n = LeafMatches(ctx, t, state, ids);
    for (int i = 0; i < n; ++i) out.push_back(&t);
    return n > 0;
  }
  bool match = false, decided = false;
  for (const MatchTerm& c : t.children) {
    bool m = MatchAndCollect(ctx, c, state, ids, out);
    if (decided) continue;
    match = m;
    decided = match != t.and_op;  // match() stops here
  }
  return match;
}

}  // namespace

bool SelectorMatches(const MatchContext& ctx, const Selector& selector, const IdentityState& state,
                     AttrList identity_attributes, std::vector<const MatchTerm*>* matched) {
  // Matchmaker.isMatch: every part present must match, MatchExpression first; a
  // selector with no part matches.
  if (!selector.unsupported.empty()) return false;
  size_t mark = matched ? matched->size() : 0;
  if (selector.has_match_expression) {
    bool match;
    if (!matched) {
      match = TermsMatch(ctx, selector.terms, selector.match_and, state, identity_attributes);
    } else {
      // ExpressionMatcher.getMatches: every term's matches; an AND expression in which
      // a term lists nothing lists nothing.
      bool decided = false, listed_all = true;
      match = false;
      for (const MatchTerm& t : selector.terms) {
        size_t before = matched->size();
        bool m = MatchAndCollect(ctx, t, state, identity_attributes, *matched);
        listed_all = listed_all && matched->size() > before;
        if (decided) continue;
        match = m;
        decided = match != selector.match_and;
      }
      if (selector.match_and && !listed_all) matched->resize(mark);
    }
    if (!match) {
      if (matched) matched->resize(mark);
      return false;
    }
  }
  bool rest = true;
  if (selector.has_compound_filter) {
    for (const Filter& f : selector.compound_filter)
      if (rest && !CompoundFilterMatches(ctx, f, state, identity_attributes)) rest = false;
  }
  if (rest && selector.has_population) {
    // doQuery: the population's filter AND id = the identity's id, which is null for
    // the copy a check evaluates: no match. A population without a filter adds nothing.
    // A scan evaluates stored identities, which have an id: the filter decides.
    if (selector.population == kNoIndex) {
      rest = false;
    } else {
      const Population& population = ctx.snapshot.populations()[selector.population];
      if (population.has_filter && !(ctx.stored_identity && PopulationMatches(ctx, population, identity_attributes)))
        rest = false;
    }
  }
  if (!rest && matched) matched->resize(mark);
  return rest;
}

bool PopulationMatches(const MatchContext& ctx, const Population& population,
                       AttrList identity_attributes) {
  return !population.has_filter || FilterMatches(ctx, population.filter, identity_attributes);
}

}  // namespace preflight
