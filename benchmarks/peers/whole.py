"""The whole answer written in Python: what Preflight does for a request, for what this workload asks.

Given the identity as a Python application would keep it (assigned and detected roles, accounts with
their attributes: read untimed from the workload's identity XML) and a request
body, one call decodes the body and the plan (json), re-provisions the assigned roles onto the stored
accounts (the state before the plan), applies the plan to a copy (account requests, role assignment
expanded to the roles' profile values), detects IT roles afresh on the result (profiles on one account,
supers matching too, only the most specific match kept), evaluates the SoD constraints before and
after with the rule index, and writes the response (json.dumps). It is the plain-Python counterpart
of `Engine.check_json`; docs/semantics.md describes each step.

It covers what benchmarks/gen_workload.py requests (Add on accounts and on IIQ assignedRoles) and
raises Unsupported on anything else; the answer is verified against Preflight's like every peer's.
A new violation is one violated after the plan and not before, or naming an item the plan changed
(model.Check); bundle lists are the held constraint roles, not IdentityIQ's origin chains (only the
constraint names are compared).
"""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Iterator

from model import Check, Policies, State, ent_key
from peers import PyIndex

Attrs = dict[str, Any]  # attribute -> a value or a list of values


class Unsupported(Exception):
    pass


@dataclass
class Account:
    app: str
    native: str
    attrs: Attrs


@dataclass
class Identity:
    assigned: list[str]
    detected: list[str]
    accounts: list[Account]


@dataclass
class Role:
    name: str
    detectable: bool
    or_profiles: bool
    # (app, [(op, attribute, values in document order, the same as a set)])
    profiles: list[tuple[str, list[tuple[str, str, list[str], frozenset[str]]]]]
    inherits: tuple[str, ...]
    requires: tuple[str, ...]


@dataclass
class App:
    schema: set[str]
    multi: set[str]


class Model:
    """Roles, applications and constraints, read once from the workload's XML."""

    def __init__(self, xml_dir: str, pol: Policies):
        self.pol = pol
        self.index = PyIndex(pol)
        self.apps: dict[str, App] = {}
        for a in ET.parse(os.path.join(xml_dir, "applications.xml")).getroot().findall("Application"):
            defs = a.findall("Schemas/Schema/AttributeDefinition")
            self.apps[a.get("name", "")] = App({d.get("name", "") for d in defs},
                                               {d.get("name", "") for d in defs if d.get("multi") == "true"})
        self.roles: dict[str, Role] = {}
        for b in ET.parse(os.path.join(xml_dir, "roles.xml")).getroot().findall("Bundle"):
            profiles: list[tuple[str, list[tuple[str, str, list[str], frozenset[str]]]]] = []
            for profile in b.findall("Profiles/Profile"):
                filters = []
                for f in profile.findall("Constraints/Filter"):
                    op = f.get("operation", "")
                    if op == "CONTAINS_ALL":
                        values = [s.text or "" for s in f.findall("Value/List/String")]
                    elif op == "EQ":
                        values = [f.get("value", "")]
                    else:
                        raise Unsupported(f"role {b.get('name')}: filter {op}")
                    filters.append((op, f.get("property", ""), values, frozenset(values)))
                profiles.append((_ref_name(profile.find("ApplicationRef/Reference")), filters))
            name = b.get("name", "")
            self.roles[name] = Role(name, b.get("type") == "it", b.get("orProfiles") == "true", profiles,
                                    tuple(r.get("name", "") for r in b.findall("Inheritance/Reference")),
                                    tuple(r.get("name", "") for r in b.findall("Requirements/Reference")))
        # Detection candidates: a profile value -> the detectable roles whose profiles name it.
        self.by_value: dict[tuple[str, str, str], set[str]] = {}
        for r in self.roles.values():
            if r.detectable:
                for app, filters in r.profiles:
                    for _, attr, values, _ in filters:
                        for v in values:
                            self.by_value.setdefault((app, attr, v), set()).add(r.name)
        self.policy_of: dict[str, tuple[str, str]] = {}
        for policy in ET.parse(os.path.join(xml_dir, "policies.xml")).getroot().findall("Policy"):
            for c in policy.iter():
                if c.tag in ("SODConstraint", "GenericConstraint"):
                    self.policy_of[c.get("name", "")] = (policy.get("name", ""), policy.get("type", ""))
        self.constraints = {c.name: c for c in pol.constraints}
        self.expansions: dict[str, tuple[tuple[str, str, str], ...]] = {}  # role -> expand(role), filled on use

    # ---- plan application

    def expand(self, role: str) -> tuple[tuple[str, str, str], ...]:
        got = self.expansions.get(role)
        if got is None:
            got = self.expansions[role] = tuple(self._expand(role))
        return got

    def _expand(self, role: str) -> Iterator[tuple[str, str, str]]:
        """The Add requests assigning a role makes: (app, attribute, value), breadth first over the
        role, its supers and its requirements; EQ and CONTAINS_ALL values; the first profile only
        under orProfiles."""
        queue, seen = [role], set()
        while queue:
            r = self.roles[queue.pop(0)]
            if r.name in seen:
                continue
            seen.add(r.name)
            for app, filters in r.profiles:
                for _, attr, values, _ in filters:
                    for v in values:
                        yield app, attr, v
                if r.or_profiles:
                    break
            queue.extend(r.inherits)
            queue.extend(r.requires)

    def add_values(self, acc: Account, attr: str, values: list[str], force_multi: bool) -> None:
        if attr not in self.apps[acc.app].schema:
            return  # IdentityIQ drops an attribute the account schema does not define
        cur = acc.attrs.get(attr)
        if not (force_multi or attr in self.apps[acc.app].multi or isinstance(cur, list)):
            if values:
                acc.attrs[attr] = values[0]  # Add on a single-valued attribute replaces
            return
        held = list(cur) if isinstance(cur, list) else ([cur] if cur is not None else [])
        held.extend(v for v in values if v not in held)
        acc.attrs[attr] = held

    @staticmethod
    def account_for(accounts: list[Account], app: str, native: str | None) -> Account | None:
        for a in accounts:
            if a.app == app and (native is None or a.native.lower() == native.lower()):
                return a
        return None

    def provision(self, accounts: list[Account], roles: list[str]) -> None:
        for role in roles:
            for app, attr, v in self.expand(role):
                acc = self.account_for(accounts, app, None)
                if acc is None:
                    acc = Account(app, "???", {})
                    accounts.append(acc)
                self.add_values(acc, attr, [v], False)

    def apply(self, idn: Identity, plan: dict[str, Any]) -> tuple[list[str], list[Account], list[Account]]:
        """-> the assigned roles after the plan, the accounts before and after it."""
        assigned = list(idn.assigned)
        accounts = [Account(a.app, a.native, dict(a.attrs)) for a in idn.accounts]
        self.provision(accounts, assigned)  # the state before the plan re-provisions assigned roles
        pre_accounts = [Account(a.app, a.native, dict(a.attrs)) for a in accounts]
        added_roles = []
        for req in plan.get("accounts", []):
            app, native, op = req.get("application"), req.get("nativeIdentity"), req.get("op", "Modify")
            if op not in ("Modify", "Create"):
                raise Unsupported(f"account op {op}")
            for ar in req.get("attributes", []):
                if ar.get("op", "Add") != "Add":
                    raise Unsupported(f"attribute op {ar.get('op')}")
                value = ar.get("value")
                values = value if isinstance(value, list) else [value]
                if app == "IIQ":
                    if ar["name"] != "assignedRoles":
                        raise Unsupported(f"IIQ attribute {ar['name']}")
                    for r in values:
                        if r not in self.roles:
                            raise Unsupported(f"unknown role {r}")
                        if r not in assigned:
                            assigned.append(r)
                        added_roles.append(r)
                    continue
                acc = self.account_for(accounts, app, native)
                if acc is None:
                    acc = Account(app, native or "???", {})
                    accounts.append(acc)
                self.add_values(acc, ar["name"], values, isinstance(value, list) and len(values) > 1)
        self.provision(accounts, added_roles)
        return assigned, pre_accounts, accounts

    # ---- detection

    @staticmethod
    def profile_matches(views: list[tuple[str, dict[str, Any]]], app: str, filters) -> bool:
        """All filters of a profile hold on one account of its application."""
        for acc_app, view in views:
            if acc_app != app:
                continue
            for op, attr, values, value_set in filters:
                cur = view.get(attr)
                if op == "EQ":
                    if cur != values[0]:  # a multi-valued attribute is a set: EQ never matches it
                        break
                elif not (value_set <= cur if isinstance(cur, set) else cur is not None and value_set <= {cur}):
                    break
            else:
                return True
        return False

    def detect(self, accounts: list[Account]) -> list[str]:
        # Each account's attributes with lists as sets, and the roles whose profiles name a held value.
        views: list[tuple[str, dict[str, Any]]] = []
        candidates: set[str] = set()
        by_value = self.by_value
        for a in accounts:
            view = {}
            for attr, val in a.attrs.items():
                view[attr] = set(val) if isinstance(val, list) else val
                for v in (val if isinstance(val, list) else (val,)):
                    roles = by_value.get((a.app, attr, v))
                    if roles:
                        candidates |= roles
            views.append((a.app, view))
        memo: dict[str, bool] = {}

        def matches(name: str) -> bool:
            got = memo.get(name)
            if got is None:
                r = self.roles[name]
                ps = [self.profile_matches(views, app, f) for app, f in r.profiles]
                got = (any(ps) if r.or_profiles else all(ps)) if ps else True
                got = got and all(matches(s) for s in r.inherits)
                memo[name] = got
            return got

        matched = [r for r in candidates if matches(r)]
        shadowed: set[str] = set()
        for r in matched:
            shadowed |= self.pol.up[r] - {r}
        return sorted(r for r in matched if r not in shadowed)

    # ---- policies

    def ents(self, accounts: list[Account]) -> frozenset[str]:
        out = set()
        for a in accounts:
            wanted = self.pol.ent_attrs.get(a.app, ())
            for attr, val in a.attrs.items():
                if attr in wanted:
                    for v in (val if isinstance(val, list) else [val]):
                        out.add(ent_key(a.app, attr, v))
        return frozenset(out)

    def check(self, idn: Identity, body: str) -> str:
        req = json.loads(body)
        plan = req["plan"]
        if plan.get("type") != "application/sailpoint.object.ProvisioningPlan+json":
            raise Unsupported(f"plan type {plan.get('type')}")
        assigned, pre_accounts, post_accounts = self.apply(idn, json.loads(plan["value"]))
        detected = self.detect(post_accounts)
        pre_direct = set(idn.assigned) | set(idn.detected)
        post_direct = set(assigned) | set(detected)
        pre_ents, post_ents = self.ents(pre_accounts), self.ents(post_accounts)
        check = Check(State(self.pol.held_roles(pre_direct), pre_ents),
                      State(self.pol.held_roles(post_direct), post_ents),
                      State(self.pol.held_roles(pre_direct ^ post_direct), pre_ents ^ post_ents))
        violations = []
        for name in sorted(self.index.new_violations(check)):
            c = self.constraints[name]
            policy, ptype = self.policy_of[name]
            v: dict[str, Any] = {"policyName": policy, "constraintName": name}
            if c.kind == "role":
                held = check.post.roles
                v.update(leftBundles=[r for r in c.left if r in held], policyType=ptype, entitlements=[],
                         rightBundles=[r for r in c.right if r in held])
            else:
                ents = [e.split("|", 2) for e in c.left + c.right if e in check.post.ents]
                v.update(leftBundles=[], policyType=ptype, rightBundles=[],
                         entitlements=[{"application": a, "attribute": n, "value": x} for a, n, x in ents])
            violations.append(v)
        response: dict[str, Any] = {}
        if violations:
            response["violations"] = violations
        response.update(identity=req["identity"],
                        schemas=["urn:ietf:params:scim:schemas:sailpoint:1.0:CheckedPolicyViolation"],
                        plan=plan, meta={"resourceType": "CheckedPolicyViolation"})
        return json.dumps(response, separators=(",", ":"))


def _ref_name(ref: ET.Element | None) -> str:
    return ref.get("name", "") if ref is not None else ""


def _attrs(link: ET.Element) -> Attrs:
    out: Attrs = {}
    for e in link.findall("Attributes/Map/entry"):
        values = e.find("value/List")
        out[e.get("key", "")] = ([x.text or "" for x in values.findall("String")] if values is not None
                                 else e.get("value", ""))
    return out


def read_identities(xml_dir: str, names: list[str]) -> dict[str, Identity]:
    """The identities as a Python application would keep them, read from the workload's identity XML
    (the export Preflight loads; only the wanted <Identity> elements are parsed)."""
    wanted, out = set(names), {}
    for fn in sorted(os.listdir(xml_dir)):
        if not fn.startswith("identities-"):
            continue
        with open(os.path.join(xml_dir, fn), encoding="utf-8") as f:
            text = f.read()
        for part in text.split("<Identity ")[1:]:
            head = part[:part.index(">")]
            name = ET.fromstring(f"<Identity {head.rstrip('/')}/>").get("name", "")
            if name not in wanted:
                continue
            idn = ET.fromstring("<Identity " + part[:part.index("</Identity>") + len("</Identity>")])
            accounts = [Account(_ref_name(link.find("ApplicationRef/Reference")), link.get("nativeIdentity", ""),
                                _attrs(link)) for link in idn.findall("Links/Link")]
            out[name] = Identity([r.get("name", "") for r in idn.findall("AssignedRoles/Reference")],
                                 [r.get("name", "") for r in idn.findall("Bundles/Reference")], accounts)
    missing = wanted - out.keys()
    if missing:
        raise Unsupported(f"identities not in {xml_dir}: {sorted(missing)[:5]}")
    return out
