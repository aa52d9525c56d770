"""The workload's SoD policies as plain data, and each request's projection taken from Preflight.

Both are built once, untimed. The policies are read from the workload's own IdentityIQ XML
(policies.xml, roles.xml, applications.xml) with the standard library, so every peer is given the
same rules Preflight loaded. The projection of a request (the identity's held roles, closed upward
over inheritance, and its entitlements, before and after the plan, and what the plan changed)
comes from Preflight's compile report (`Engine.compile`): the peers are given it for free, as a user
who already has the identity's state would give it to them.

Only the shapes benchmarks/gen_workload.py writes are translated (role SoD constraints over roles,
entitlement SoD constraints of two OR-ed MatchExpressions of entitlement terms); anything else in
the workload stops the run with a message rather than being translated wrongly.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Iterable

SEP = "|"  # joins application, attribute and value into one entitlement key: printable, as rego-cpp's
# output does not escape control characters, and no part of a key may hold it (checked)


def ent_key(app: str, attr: str, value: str) -> str:
    if SEP in app or SEP in attr or SEP in value:
        raise UnsupportedWorkload(f"an entitlement holds {SEP!r}, the key separator: {app}, {attr}, {value}")
    return f"{app}{SEP}{attr}{SEP}{value}"


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str  # "role" or "entitlement"
    left: tuple[str, ...]  # role names, or entitlement keys
    right: tuple[str, ...]


@dataclass
class Policies:
    constraints: list[Constraint]
    parents: dict[str, tuple[str, ...]]  # role -> the roles it inherits from
    ent_attrs: dict[str, set[str]]  # application -> its entitlement attributes
    up: dict[str, frozenset[str]] = field(default_factory=dict)  # role -> itself and every ancestor

    def held_roles(self, roles: Iterable[str]) -> frozenset[str]:
        out: set[str] = set()
        for r in roles:
            out |= self.up.get(r) or {r}
        return frozenset(out)


class UnsupportedWorkload(Exception):
    pass


def _ref_names(elem: ET.Element | None) -> tuple[str, ...]:
    if elem is None:
        return ()
    return tuple(ref.get("name", "") for ref in elem.findall("Reference"))


def _side(selector: ET.Element, cname: str) -> tuple[str, ...]:
    expr = selector.find("MatchExpression")
    if expr is None or expr.get("and") == "true" or len(selector) != 1:
        raise UnsupportedWorkload(f"{cname}: only an OR-ed MatchExpression is translated")
    keys = []
    for term in expr.findall("MatchTerm"):
        app_ref = term.find("ApplicationRef/Reference")
        if (term.get("type") != "Entitlement" or term.get("negative") == "true" or app_ref is None
                or term.get("container") == "true"):
            raise UnsupportedWorkload(f"{cname}: only entitlement terms with an application are translated")
        keys.append(ent_key(app_ref.get("name", ""), term.get("name", ""), term.get("value", "")))
    return tuple(keys)


def load_policies(xml_dir: str) -> Policies:
    constraints: list[Constraint] = []
    root = ET.parse(os.path.join(xml_dir, "policies.xml")).getroot()
    for policy in root.findall("Policy"):
        if policy.get("state") != "Active":
            continue
        executor = policy.get("executor", "")
        for c in policy.findall("SODConstraints/SODConstraint"):
            if not executor.endswith("SODPolicyExecutor") or c.get("disabled") == "true":
                raise UnsupportedWorkload(f"{c.get('name')}: unexpected role SoD shape")
            constraints.append(Constraint(c.get("name", ""), "role", _ref_names(c.find("LeftBundles")),
                                          _ref_names(c.find("RightBundles"))))
        for c in policy.findall("GenericConstraints/GenericConstraint"):
            name = c.get("name", "")
            selectors = c.findall("IdentitySelector")
            if len(selectors) != 2 or c.get("disabled") == "true":
                raise UnsupportedWorkload(f"{name}: only two-selector entitlement SoD is translated")
            constraints.append(Constraint(name, "entitlement", _side(selectors[0], name), _side(selectors[1], name)))
    if len({c.name for c in constraints}) != len(constraints):
        raise UnsupportedWorkload("constraint names are not unique")

    parents: dict[str, tuple[str, ...]] = {}
    for bundle in ET.parse(os.path.join(xml_dir, "roles.xml")).getroot().findall("Bundle"):
        parents[bundle.get("name", "")] = _ref_names(bundle.find("Inheritance"))

    ent_attrs: dict[str, set[str]] = {}
    for app in ET.parse(os.path.join(xml_dir, "applications.xml")).getroot().findall("Application"):
        attrs = ent_attrs.setdefault(app.get("name", ""), set())
        for d in app.findall("Schemas/Schema/AttributeDefinition"):
            if d.get("entitlement") == "true":
                attrs.add(d.get("name", ""))

    pol = Policies(constraints, parents, ent_attrs)

    def up(role: str, seen: tuple[str, ...] = ()) -> frozenset[str]:
        got = pol.up.get(role)
        if got is None:
            if role in seen:
                raise UnsupportedWorkload(f"role inheritance cycle at {role}")
            s = {role}
            for p in parents.get(role, ()):
                s |= up(p, seen + (role,))
            got = pol.up[role] = frozenset(s)
        return got

    for r in parents:
        up(r)
    return pol


@dataclass(frozen=True)
class State:
    """Held roles (with the roles they inherit from) and entitlements (model.ent_key strings)."""
    roles: frozenset[str]
    ents: frozenset[str]


@dataclass(frozen=True)
class Check:
    """What a peer is given for one request: the identity before and after the plan, and what the plan
    changed. IdentityIQ reports a violation the identity already has again when its bundle or
    entitlement list changes (docs/semantics.md, "Only new violations"); on this workload that is
    exactly a constraint naming a changed item: a role inherited by a directly held role that the plan
    added or removed, or an entitlement it added or removed. So a constraint is newly violated when it
    is violated after the plan and either was not before or names a changed item."""
    pre: State
    post: State
    changed: State


def _direct_roles(state: dict[str, Any]) -> set[str]:
    return set(state.get("assignedRoles", [])) | set(state.get("detectedRoles", []))


def _ents(pol: Policies, state: dict[str, Any]) -> frozenset[str]:
    ents = set()
    for acct in state.get("accounts", []):
        app = acct["application"]
        wanted = pol.ent_attrs.get(app, ())
        for attr, val in acct.get("attributes", {}).items():
            if attr not in wanted:
                continue
            for v in (val if isinstance(val, list) else [val]):
                if isinstance(v, str):
                    ents.add(ent_key(app, attr, v))
    return frozenset(ents)


def project(pol: Policies, report: dict[str, Any]) -> Check:
    """A compile report (Engine.compile) -> Check."""
    pre_direct, post_direct = _direct_roles(report["pre"]), _direct_roles(report["post"])
    pre_ents, post_ents = _ents(pol, report["pre"]), _ents(pol, report["post"])
    return Check(State(pol.held_roles(pre_direct), pre_ents), State(pol.held_roles(post_direct), post_ents),
                 State(pol.held_roles(pre_direct ^ post_direct), pre_ents ^ post_ents))
