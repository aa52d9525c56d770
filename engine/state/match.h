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
  // The state is a stored identity (a scan), not a check's copy: it has an id, so a
  // PopulationRef's query runs (docs/semantics.md, Populations).
  bool stored_identity = false;
  std::string_view Text(Id id) const { return ids.Text(id); }
};

// One attribute map (an identity's attributes), sorted by name; or an account.
bool FilterMatches(const MatchContext& ctx, const Filter& filter, AttrList attributes);
bool FilterMatches(const MatchContext& ctx, const Filter& filter, const AccountState& account);

// A CompoundFilter: properties with an application prefix read that application's
// accounts (any account may satisfy the leaf), others the identity attributes.
bool CompoundFilterMatches(const MatchContext& ctx, const Filter& filter, const IdentityState& state,
                           AttrList identity_attributes);

// Does one role's own profile set match the identity's accounts?
bool ProfilesMatch(const MatchContext& ctx, const Role& role, const IdentityState& state);

// The leaf MatchTerms that matched (for the response's `entitlements`), in order.
struct TermMatch {
  const MatchTerm* term;
};

// Evaluates a selector as IdentityIQ's Matchmaker.isMatch does in a check. When
// `matched` is given and the selector matches, the MatchExpression's matching leaf
// terms are appended as ExpressionMatcher.getMatches lists them: every matching leaf of
// an OR expression, children of containers whatever the container's and flag, a
// matching negative term, a term once per account it matches on; nothing for an AND
// expression with a term that lists nothing.
bool SelectorMatches(const MatchContext& ctx, const Selector& selector, const IdentityState& state,
                     AttrList identity_attributes, std::vector<const MatchTerm*>* matched);

// A population's filter on a stored identity's attributes: what IdentityIQ's query
// finds for an identity that has an id (a refresh or a scan of stored identities; a
// check's copy has none, see SelectorMatches).
bool PopulationMatches(const MatchContext& ctx, const Population& population,
                       AttrList identity_attributes);

}  // namespace preflight
