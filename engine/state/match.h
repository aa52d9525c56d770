#pragma once
// Evaluation of sailpoint.object.Filter trees on attribute maps (role profiles and
// CompoundFilters) and of IdentitySelectors (MatchExpression terms) on an identity
// state. Matching compares interned ids; text is consulted only for ignoreCase,
// LIKE and ordering operators.

#include <vector>

#include "engine/state/identity_state.h"

namespace preflight {

struct MatchContext {
  const Snapshot& snapshot;
  const ValueIds& ids;
  std::string_view Text(Id id) const { return ids.Text(id); }
};

// One attribute map (an identity's attributes), sorted by name; or an account.
bool FilterMatches(const MatchContext& ctx, const Filter& filter, const std::vector<AttrValues>& attributes);
bool FilterMatches(const MatchContext& ctx, const Filter& filter, const AccountState& account);

// A CompoundFilter: properties with an application prefix read that application's
// accounts (any account may satisfy the leaf), others the identity attributes.
bool CompoundFilterMatches(const MatchContext& ctx, const Filter& filter, const IdentityState& state,
                           const std::vector<AttrValues>& identity_attributes);

// Does one role's own profile set match the identity's accounts?
bool ProfilesMatch(const MatchContext& ctx, const Role& role, const IdentityState& state);

// The leaf MatchTerms that matched (for the response's `entitlements`), in order.
struct TermMatch {
  const MatchTerm* term;
};

// Evaluates a selector. When `matched` is given, the matching leaf terms of the
// MatchExpression are appended (IIQ's getMatches: every matching leaf of an OR
// expression; nothing when an AND expression fails; a term that matches on two
// accounts is listed twice).
bool SelectorMatches(const MatchContext& ctx, const Selector& selector, const IdentityState& state,
                     const std::vector<AttrValues>& identity_attributes, std::vector<const MatchTerm*>* matched);

}  // namespace preflight
