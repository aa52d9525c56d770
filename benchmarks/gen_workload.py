#!/usr/bin/env python3
"""Deterministic SoD workload generator for Preflight benchmarks.

Writes a realistic IdentityIQ snapshot in the real export formats (IIQ XML `<sailpoint>` files and/or
SCIM 2.0 JSON ListResponse pages), a set of CheckedPolicyViolations request bodies, and a manifest.
The workload shape follows ../shared/research/peers.md ("Workload"): N identities, 20 applications,
5,000 entitlements, 2,000 roles (500 business, 1,500 IT), P SoD constraints (70% role SoD, 30%
entitlement SoD) drawn from "sensitive" items that few identities hold, K requests (25% targeted at the
missing side of a constraint the identity half-holds).

Semantics used to make the data self-consistent (IdentityIQ's, see docs/semantics.md section 4):
- An IT role is *detected* (Identity <Bundles>) exactly when its own profiles match the identity's
  accounts (all filters of a profile on the one account of the profile's application; all profiles,
  or at least one with orProfiles="true") AND every role it inherits from matches in the same way
  (IT roles only inherit IT roles, all of which have profiles), AND no role inheriting from it
  matches too (only the most specific match of a branch is detected).
- Business roles are only ever assigned (<AssignedRoles>), never detected. Their required IT roles'
  profile entitlements (first profile only under orProfiles, inherited roles' profiles included) are
  usually provisioned on the accounts; occasionally one is skipped or provisioned incompletely.
- Role SoD counts assigned + detected roles closed upward over inheritance (not requirements or
  permits); entitlement SoD matches MatchTerms (OR within a side) against account attributes.
  These drive the "already violating" statistic and the choice of targeted requests.

Determinism: everything derives from --seed. Identities are generated in chunks of --chunk-size, each
from its own RNG stream, so identity i's data does not depend on N, on --jobs, on --constraints or on
--requests. The manifest holds no timings (they go to stderr).

Standard library only (Python 3.11).
"""
from __future__ import annotations

import argparse
import bisect
import json
import multiprocessing
import os
import random
import shutil
import sys
import time

DEFAULT_SEED = 20261124
N_APPS = 20
N_ENTITLEMENTS = 5000
N_BUSINESS_ROLES = 500
N_IT_ROLES = 1500
MAX_ROLE_SLOTS = 15
MIN_ENTS, MAX_ENTS = 5, 80
TARGETED_FRACTION = 0.25

BASE_URL = "https://iiq.corp.example/identityiq/scim/v2"
XML_HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<!DOCTYPE sailpoint PUBLIC "sailpoint.dtd" "sailpoint.dtd">\n<sailpoint>\n')
XML_FOOTER = "</sailpoint>\n"
PLAN_TYPE = "application/sailpoint.object.ProvisioningPlan+json"

USER_SCHEMAS = ["urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "urn:ietf:params:scim:schemas:sailpoint:1.0:User"]
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SAILPOINT_USER_URN = "urn:ietf:params:scim:schemas:sailpoint:1.0:User"
ACCOUNT_URN = "urn:ietf:params:scim:schemas:sailpoint:1.0:Account"
APP_SCHEMA_URN = "urn:ietf:params:scim:schemas:sailpoint:1.0:Application:Schema:"
LIST_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ACCT_PLACEHOLDER = " " * 12  # JSON whitespace, later overwritten with a right-aligned number


def xesc(s: str) -> str:
    """Escape text for both XML attribute values (double-quoted) and element content."""
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    if '"' in s:
        s = s.replace('"', "&quot;")
    return s


def hexid(kind: int, n: int) -> str:
    """A 32-hex-digit IIQ-looking object id, unique per (kind, n)."""
    return f"0a0a{kind:04x}{n:024x}"


# --------------------------------------------------------------------------------------------------
# Static vocabulary
# --------------------------------------------------------------------------------------------------

DEPARTMENTS = ["Finance", "Human Resources", "Engineering", "Sales", "Marketing", "Operations",
               "Legal & Compliance", "Information Technology", "Customer Support", "Procurement"]
DEPT_SHORT = ["Finance", "HR", "Engineering", "Sales", "Marketing", "Operations", "Legal", "IT", "Support",
              "Procurement"]
DEPT_WEIGHTS = [14, 8, 22, 13, 7, 10, 4, 9, 9, 4]
TITLES = ["Analyst", "Senior Analyst", "Associate", "Specialist", "Coordinator", "Lead", "Manager",
          "Senior Manager", "Director", "Administrator"]
LOCATIONS = ["London", "Austin", "New York", "Singapore", "Frankfurt", "Toronto", "Sydney", "Pune",
             "Dublin", "Sao Paulo"]
FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
         "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
         "Charles", "Karen", "Amanda", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
         "Sandra", "Donald", "Ashley", "Steven", "Emily", "Paul", "Donna", "Andrew", "Michelle", "Joshua",
         "Carol", "Kenneth", "Amy", "Kevin", "Melissa", "Brian", "Deborah", "Priya", "Wei", "Yuki",
         "Olga", "Ahmed", "Fatima", "Lars", "Ingrid", "Jose", "Lucia", "Chen", "Aisha", "Noah", "Zoe",
         "Liam"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
        "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
        "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
        "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
        "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
        "Carter", "Roberts", "O'Brien", "D'Angelo", "Ross", "Bennett", "Schmidt", "Kowalski", "Tanaka",
        "Patel", "Singh", "Okafor"]

# Application templates. Entitlement attributes: (name, value format); single: (name, format) or None.
# "{n}" is the 4-digit entitlement number. "other" are non-entitlement account attributes whose value
# is derived from the identity ({login} {email} {display} {first} {last} {emp}).
APP_TEMPLATES = {
    "Active Directory": dict(
        dispfield="login",
        type="Active Directory - Direct", connector="sailpoint.connector.ADLDAPConnector",
        identity="distinguishedName", display="sAMAccountName",
        native="CN={login},OU=Users,DC=corp,DC=example",
        multi=[("memberOf", "CN=Group-{n},OU=Groups,DC=corp,DC=example")], single=None,
        other=[("displayName", "{display}"), ("mail", "{email}"), ("sAMAccountName", "{login}")]),
    "LDAP": dict(
        dispfield="login",
        type="LDAP", connector="sailpoint.connector.LDAPConnector", identity="dn", display="uid",
        native="uid={login},ou=people,dc=corp,dc=example",
        multi=[("groups", "cn=group-{n},ou=groups,dc=corp,dc=example")], single=None,
        other=[("cn", "{display}"), ("mail", "{email}"), ("uid", "{login}")]),
    "Oracle DB": dict(
        dispfield="LOGIN",
        type="JDBC", connector="sailpoint.connector.JDBCConnector", identity="username", display="username",
        native="{LOGIN}",
        multi=[("roles", "DB_ROLE_{n}"), ("privileges", "PRIV_{n}")], single=("profile", "PROFILE_{n}"),
        other=[("username", "{LOGIN}")]),
    "SAP ERP": dict(
        dispfield="LOGIN",
        type="SAP - Direct", connector="sailpoint.connector.sap.SAPConnector", identity="Username",
        display="Username", native="{LOGIN}",
        multi=[("Roles", "Z_ROLE_{n}"), ("Profiles", "Z_PROF_{n}")], single=("UserGroup", "UG_{n}"),
        other=[("Email", "{email}"), ("Username", "{LOGIN}")]),
    "Salesforce": dict(
        dispfield="display",
        type="Salesforce", connector="sailpoint.connector.SalesforceConnector", identity="Username",
        display="Name", native="{login}@corp.example",
        multi=[("PermissionSets", "PermSet_{n}")], single=("Profile", "Profile {n}"),
        other=[("Email", "{email}"), ("Name", "{display}")]),
    "Unix": dict(
        dispfield="login",
        type="Unix", connector="sailpoint.connector.UnixConnector", identity="username", display="username",
        native="{login}",
        multi=[("groups", "grp{n}")], single=("primaryGroup", "pgrp{n}"),
        other=[("home", "/home/{login}"), ("username", "{login}")]),
    "ServiceNow": dict(
        dispfield="display",
        type="ServiceNow", connector="sailpoint.connector.ServiceNowConnector", identity="user_name",
        display="name", native="{login}",
        multi=[("roles", "snow_role_{n}"), ("groups", "SN Group {n}")], single=None,
        other=[("email", "{email}"), ("name", "{display}"), ("user_name", "{login}")]),
    "Workday": dict(
        dispfield="display",
        type="Workday", connector="sailpoint.connector.WorkdayConnector", identity="Employee_ID",
        display="Name", native="{emp}",
        multi=[("securityGroups", "WD SG {n}")], single=("userRole", "WD Role {n}"),
        other=[("Email", "{email}"), ("Employee_ID", "{emp}"), ("Name", "{display}")]),
    "Mainframe RACF": dict(
        dispfield="RACF",
        type="RACF", connector="sailpoint.connector.RACFConnector", identity="userid", display="userid",
        native="{RACF}",
        multi=[("groups", "RG{n}")], single=("defaultGroup", "DG{n}"),
        other=[("name", "{DISPLAY}"), ("userid", "{RACF}")]),
    "Oracle EBS": dict(
        dispfield="LOGIN",
        type="Oracle Applications", connector="sailpoint.connector.OracleApplicationsConnector",
        identity="userName", display="userName", native="{LOGIN}",
        multi=[("responsibilities", "Resp {n}")], single=None,
        other=[("email", "{email}"), ("userName", "{LOGIN}")]),
    "AWS IAM": dict(
        dispfield="login",
        type="AWS", connector="sailpoint.connector.AWSConnector", identity="userName", display="userName",
        native="{login}",
        multi=[("groups", "aws-grp-{n}"), ("policies", "arn:aws:iam::123456789012:policy/Pol-{n}")],
        single=None, other=[("arn", "arn:aws:iam::123456789012:user/{login}"), ("userName", "{login}")]),
}
DEPT_APP_LABELS = ["Oracle DB", "SAP ERP", "Salesforce", "Unix", "ServiceNow", "Workday", "Mainframe RACF",
                   "Oracle EBS", "AWS IAM"]
N_SINGLE_VALUES = 8


# --------------------------------------------------------------------------------------------------
# Weighted pickers
# --------------------------------------------------------------------------------------------------

class Picker:
    """Weighted choice from a fixed pool via cumulative weights and bisect."""
    __slots__ = ("pool", "cum", "total")

    def __init__(self, pool, weights):
        self.pool = list(pool)
        cum, t = [], 0.0
        for w in weights:
            t += w
            cum.append(t)
        self.cum = cum
        self.total = t

    def __len__(self):
        return len(self.pool)

    def pick(self, rng):
        return self.pool[bisect.bisect_right(self.cum, rng.random() * self.total)]


def zipf_picker(pool, s):
    return Picker(pool, [1.0 / (r + 1) ** s for r in range(len(pool))])


def weights_picker(values, weights):
    return Picker(values, weights)


# --------------------------------------------------------------------------------------------------
# The model: applications, entitlements, roles, constraints (small; built identically in every process)
# --------------------------------------------------------------------------------------------------

class Model:
    def __init__(self, seed: int, n_constraints: int):
        self.seed = seed
        rng = random.Random(f"{seed}/model")
        self._build_apps()
        self._build_entitlements(rng)
        self._build_departments()
        self._build_it_roles(rng)
        self._build_business_roles(rng)
        self._build_closures()
        self._build_identity_pickers()
        self._build_constraints(random.Random(f"{seed}/constraints"), n_constraints)

    # ---- applications
    def _build_apps(self):
        labels = ["Active Directory", "LDAP"] + [DEPT_APP_LABELS[k % len(DEPT_APP_LABELS)]
                                                  for k in range(N_APPS - 2)]
        self.apps = []
        for a, label in enumerate(labels):
            t = APP_TEMPLATES[label]
            name = f"App-{a:02d} {label}"
            app = dict(idx=a, name=name, esc=xesc(name), id=hexid(1, a), label=label, t=t,
                       ref=('<ApplicationRef><Reference class="sailpoint.object.Application" name="'
                            + xesc(name) + '"/></ApplicationRef>'),
                       urn=APP_SCHEMA_URN + name + ":account")
            self.apps.append(app)

    # ---- entitlements: ids in app-major, attribute-major order (so sorted ids group by account/attr)
    def _build_entitlements(self, rng):
        per_app = [700, 500] + [0] * (N_APPS - 2)
        rest = N_ENTITLEMENTS - 1200
        for a in range(2, N_APPS):
            per_app[a] = rest // (N_APPS - 2) + (1 if (a - 2) < rest % (N_APPS - 2) else 0)
        self.ent_app, self.ent_attr, self.ent_value, self.ent_single = [], [], [], []
        self.ent_sensitive = []
        self.ent_attr_name = []
        self.app_attrs = []          # per app: list of (attr name, single?) in ent-id order
        self.app_multi_pool = []     # per app: non-sensitive multi ents
        self.app_sensitive_pool = []  # per app: sensitive multi ents
        self.app_single_pool = []    # per app: single-valued ents
        n = 0
        for a, app in enumerate(self.apps):
            t = app["t"]
            count = per_app[a]
            n_single = N_SINGLE_VALUES if t["single"] else 0
            n_multi = count - n_single
            attrs = list(t["multi"]) + ([t["single"]] if t["single"] else [])
            sizes = []
            if len(t["multi"]) == 1:
                sizes = [n_multi]
            else:
                first = int(n_multi * 0.7)
                sizes = [first, n_multi - first]
            if n_single:
                sizes.append(n_single)
            attr_list = []
            multi_pool, sens_pool, single_pool = [], [], []
            for k, ((attr, fmt), size) in enumerate(zip(attrs, sizes)):
                single = bool(n_single) and k == len(attrs) - 1
                ai = len(attr_list)
                attr_list.append((attr, single))
                ids = list(range(n, n + size))
                for e in ids:
                    num = f"{e:04d}"
                    value = fmt.format(n=num)
                    # A few values with characters that need escaping, as real directories have.
                    if not single and e % 97 == 13:
                        value = value.replace("Group-", "R&D Group-").replace("group-", "r&d-group-")
                        if "&" not in value:
                            value = value + " & Co"
                    elif not single and e % 131 == 7:
                        value = value + " (O'Neil)"
                    self.ent_app.append(a)
                    self.ent_attr.append(ai)
                    self.ent_attr_name.append(attr)
                    self.ent_value.append(value)
                    self.ent_single.append(single)
                    self.ent_sensitive.append(False)
                if single:
                    single_pool.extend(ids)
                else:
                    shuffled = ids[:]
                    rng.shuffle(shuffled)
                    n_sens = max(2, size // 10)
                    for e in shuffled[:n_sens]:
                        self.ent_sensitive[e] = True
                    sens_pool.extend(sorted(shuffled[:n_sens]))
                    multi_pool.extend(shuffled[n_sens:])  # shuffled order = popularity rank
                n += size
            self.app_attrs.append(attr_list)
            self.app_multi_pool.append(multi_pool)
            self.app_sensitive_pool.append(sens_pool)
            self.app_single_pool.append(single_pool)
        assert n == N_ENTITLEMENTS
        self.ent_esc = [xesc(v) for v in self.ent_value]
        self.app_ent_picker = [zipf_picker(p, 0.9) for p in self.app_multi_pool]
        # Non-sensitive entitlements split into role-governed ones (used in IT role profiles) and loose ones
        # (granted directly); keeps incidental role detection occasional rather than systematic.
        self.app_role_pool, self.app_loose_pool = [], []
        for p in self.app_multi_pool:
            k = int(len(p) * 0.85)
            self.app_role_pool.append(sorted(p[:k]))
            self.app_loose_pool.append(p[k:])
        self.app_loose_picker = [zipf_picker(p, 0.9) for p in self.app_loose_pool]
        self.app_single_picker = [zipf_picker(p, 1.0) if p else None for p in self.app_single_pool]

    # ---- departments: each owns AD, LDAP and three overlapping department applications
    def _build_departments(self):
        self.dept_apps = []
        for k in range(len(DEPARTMENTS)):
            off = k * 18 // len(DEPARTMENTS)
            own = [2 + (off + t) % (N_APPS - 2) for t in range(3)]
            self.dept_apps.append([0, 1] + own)
        self.dept_picker = weights_picker(range(len(DEPARTMENTS)), DEPT_WEIGHTS)

    # ---- IT roles
    def _build_it_roles(self, rng):
        self.roles = []  # all roles: IT roles 0..1499 first, then business roles
        n_ent_picker = weights_picker(range(1, 11), [8, 15, 16, 14, 12, 10, 8, 7, 5, 5])
        self.it_by_dept = [[] for _ in DEPARTMENTS]  # (dept-specific) IT role ids
        self.it_global = []
        self._ent_use = [0] * N_ENTITLEMENTS
        for j in range(N_IT_ROLES):
            is_global = rng.random() < 0.25
            dept = -1 if is_global else self.dept_picker.pick(rng)
            sensitive = rng.random() < 0.10
            if is_global:
                apps = [rng.choice([0, 1])]
                if rng.random() < 0.10:
                    apps.append(1 - apps[0])
            else:
                own = self.dept_apps[dept][2:]
                apps = [rng.choice(own)]
                if rng.random() < 0.10:
                    apps.append(rng.choice([x for x in self.dept_apps[dept] if x != apps[0]]))
            n_ents = max(n_ent_picker.pick(rng), len(apps))
            split = [1] * len(apps)
            for _ in range(n_ents - len(apps)):
                split[rng.randrange(len(apps))] += 1
            profiles = []  # list of (app, [ent ids]) ; ent ids include the EQ single value last
            for pi, (a, k) in enumerate(zip(apps, split)):
                chosen = []
                if sensitive and pi == 0:
                    sp = self.app_sensitive_pool[a]
                    ns = min(len(sp), 1 if k == 1 else rng.choice([1, 1, 2]))
                    chosen.extend(rng.sample(sp, ns))
                    k -= ns
                if k > 0:
                    chosen.extend(self._least_used(rng, a, k))
                chosen.sort()
                if self.app_single_pool[a] and rng.random() < 0.08:
                    chosen.append(rng.choice(self.app_single_pool[a]))
                profiles.append((a, chosen))
            or_profiles = len(profiles) > 1 and rng.random() < 0.30
            # Inheritance: 17% inherit 1-2 earlier IT roles of the same department (or global) and class.
            inherits = []
            if rng.random() < 0.17:
                if is_global:
                    cands = [r for r in self.it_global if self.roles[r]["sensitive"] == sensitive]
                else:
                    cands = [r for r in self.it_by_dept[dept] + self.it_global
                             if self.roles[r]["sensitive"] == sensitive]
                if cands:
                    inherits = sorted(rng.sample(cands, min(len(cands), rng.choice([1, 1, 1, 2]))))
            role = dict(idx=j, name=f"IT Role {j:04d}", type="it", dept=dept, sensitive=sensitive,
                        profiles=profiles, or_profiles=or_profiles, inherits=inherits,
                        requires=[], permits=[], id=hexid(2, j))
            self.roles.append(role)
            (self.it_global if is_global else self.it_by_dept[dept]).append(j)

    def _least_used(self, rng, a, k):
        """k role-governed entitlements of app a, preferring those used by the fewest IT roles so far:
        role engineering gives roles mostly distinct groups, which keeps incidental detection rare."""
        use = self._ent_use
        pool = self.app_role_pool[a]
        lo = min(use[e] for e in pool)
        cands = [e for e in pool if use[e] == lo]
        if len(cands) < k:
            cands = [e for e in pool if use[e] <= lo + 1]
        got = rng.sample(cands, min(k, len(cands)))
        for e in got:
            use[e] += 1
        return got

    # ---- business roles
    def _build_business_roles(self, rng):
        self.business_by_dept = [[] for _ in DEPARTMENTS]
        n_req = weights_picker([1, 2, 3], [45, 35, 20])
        n_perm = weights_picker([0, 1, 2, 3], [40, 30, 20, 10])
        for b in range(N_BUSINESS_ROLES):
            r = N_IT_ROLES + b
            dept = self.dept_picker.pick(rng)
            sensitive = rng.random() < 0.08
            pool_ns = [x for x in self.it_by_dept[dept] + self.it_global if not self.roles[x]["sensitive"]]
            pool_s = [x for x in self.it_by_dept[dept] + self.it_global if self.roles[x]["sensitive"]]
            k = n_req.pick(rng)
            req = []
            if sensitive and pool_s:
                req.append(rng.choice(pool_s))
                k -= 1
            if k > 0:
                req.extend(rng.sample(pool_ns, min(k, len(pool_ns))))
            req = sorted(set(req))
            perm_pool = [x for x in pool_ns if x not in req]
            permits = sorted(rng.sample(perm_pool, min(len(perm_pool), n_perm.pick(rng))))
            inherits = []
            if rng.random() < 0.17:
                cands = [x for x in self.business_by_dept[dept] if self.roles[x]["sensitive"] == sensitive]
                if cands:
                    inherits = sorted(rng.sample(cands, min(len(cands), rng.choice([1, 1, 1, 2]))))
            role = dict(idx=r, name=f"Business Role {b:04d}", type="business", dept=dept,
                        sensitive=sensitive, profiles=[], or_profiles=False, inherits=inherits,
                        requires=req, permits=permits, id=hexid(3, b))
            self.roles.append(role)
            self.business_by_dept[dept].append(r)

    # ---- derived structures used on the hot path
    def _build_closures(self):
        R = len(self.roles)
        self.role_name = [r["name"] for r in self.roles]
        self.role_esc = [xesc(n) for n in self.role_name]
        self.role_ref = ['<Reference class="sailpoint.object.Bundle" name="' + e + '"/>' for e in self.role_esc]
        self.role_type = [r["type"] for r in self.roles]
        self.role_id = [r["id"] for r in self.roles]
        self.role_inherits = [tuple(r["inherits"]) for r in self.roles]
        # upward closure over inheritance, including the role itself
        up = [None] * R
        for r in range(R):  # parents always have lower indices within a class
            s = {r}
            for p in self.role_inherits[r]:
                s |= up[p]
            up[r] = frozenset(s)
        self.up_closure = up
        # detection: profiles as frozensets of ent ids
        self.role_profiles = [tuple(frozenset(ents) for _, ents in r["profiles"]) for r in self.roles]
        self.role_or = [r["or_profiles"] for r in self.roles]
        self.role_first_app = [r["profiles"][0][0] if r["profiles"] else -1 for r in self.roles]
        ent_roles = [[] for _ in range(N_ENTITLEMENTS)]
        for r in range(N_IT_ROLES):
            for p in self.role_profiles[r]:
                for e in p:
                    ent_roles[e].append(r)
        self.ent_roles = [tuple(sorted(set(x))) for x in ent_roles]
        # provisioning (AssignmentExpander): supers' profiles + own (first only under orProfiles)
        prov = [None] * R
        for r in range(N_IT_ROLES):
            ents = []
            for p in self.role_inherits[r]:
                ents.extend(prov[p])
            profs = self.roles[r]["profiles"]
            if self.role_or[r]:
                profs = profs[:1]
            for _, es in profs:
                ents.extend(es)
            prov[r] = tuple(dict.fromkeys(ents))
        self.it_prov = prov
        # business role -> IT roles to provision (requirements of itself and its supers)
        self.business_it = [None] * R
        for r in range(N_IT_ROLES, R):
            its = []
            for s in sorted(self.up_closure[r]):
                its.extend(self.roles[s]["requires"])
            self.business_it[r] = tuple(dict.fromkeys(its))

    def _build_identity_pickers(self):
        self.dept_business_picker, self.dept_it_picker = [], []
        self.dept_sens_roles = []
        self.dept_sens_own = []
        for d in range(len(DEPARTMENTS)):
            bs = [r for r in self.business_by_dept[d] if not self.roles[r]["sensitive"]]
            its = [r for r in self.it_by_dept[d] + self.it_global if not self.roles[r]["sensitive"]]
            self.dept_business_picker.append(zipf_picker(bs, 1.0))
            self.dept_it_picker.append(zipf_picker(its, 1.0))
            sens = [r for r in self.business_by_dept[d] + self.it_by_dept[d] + self.it_global
                    if self.roles[r]["sensitive"]]
            self.dept_sens_roles.append(sens)
            self.dept_sens_own.append([r for r in sens if self.roles[r]["dept"] == d])
        self.sens_global = [r for r in self.it_global if self.roles[r]["sensitive"]]
        self.n_roles_picker = zipf_picker(range(1, MAX_ROLE_SLOTS + 1), 1.2)
        self.n_accounts_picker = weights_picker([1, 2, 3, 4, 5], [22, 30, 24, 14, 10])

    # ---- constraints, drawn from sensitive items
    def _build_constraints(self, rng, n_constraints):
        n_role = round(n_constraints * 0.7)
        n_ent = n_constraints - n_role
        side_roles = weights_picker([1, 2, 3], [50, 30, 20])
        side_ents = weights_picker([1, 2, 3, 4], [40, 30, 20, 10])
        all_sens_roles = sorted(r for r in range(len(self.roles)) if self.roles[r]["sensitive"])
        self.constraints = []  # dict(kind, name, dept, left, right, same_app, description)
        for c in range(n_role):
            if rng.random() < 0.75:
                d = self.dept_picker.pick(rng)
                pool = self.dept_sens_roles[d]
            else:
                d = -1
                pool = all_sens_roles
            l, r = side_roles.pick(rng), side_roles.pick(rng)
            l = min(l, max(1, len(pool) // 2))
            r = min(r, len(pool) - l)
            pick = rng.sample(pool, l + r)
            left, right = sorted(pick[:l]), sorted(pick[l:])
            desc = None
            if rng.random() < 0.6:
                desc = (f"{self.role_name[left[0]]} must not be combined with {self.role_name[right[0]]}"
                        " (segregation of duties).")
            self.constraints.append(dict(kind="role", name=f"Role SoD {c + 1:04d}", dept=d, left=left,
                                         right=right, same_app=None, description=desc))
        for c in range(n_ent):
            d = self.dept_picker.pick(rng)
            apps = self.dept_apps[d]
            same = rng.random() < 0.6
            if same:
                a = rng.choice(apps)
                pool = self.app_sensitive_pool[a]
                l, r = side_ents.pick(rng), side_ents.pick(rng)
                l = min(l, len(pool) // 2)
                r = min(r, len(pool) - l)
                pick = rng.sample(pool, l + r)
                left, right = sorted(pick[:l]), sorted(pick[l:])
            else:
                a, b = rng.sample(apps, 2)
                pa, pb = self.app_sensitive_pool[a], self.app_sensitive_pool[b]
                left = sorted(rng.sample(pa, min(len(pa), side_ents.pick(rng))))
                right = sorted(rng.sample(pb, min(len(pb), side_ents.pick(rng))))
            self.constraints.append(dict(kind="entitlement", name=f"Entitlement SoD {n_role + c + 1:04d}",
                                         dept=d, left=left, right=right, same_app=same, description=None))
        # index: item -> [(constraint idx, side bit)]
        self.role_cons = {}
        self.ent_cons = {}
        for ci, c in enumerate(self.constraints):
            idx = self.role_cons if c["kind"] == "role" else self.ent_cons
            for x in c["left"]:
                idx.setdefault(x, []).append((ci, 1))
            for x in c["right"]:
                idx.setdefault(x, []).append((ci, 2))


# --------------------------------------------------------------------------------------------------
# Per-identity generation
# --------------------------------------------------------------------------------------------------

def identity_names(seed: int, i: int):
    h = (i * 2654435761 + seed * 40503) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 1274126177) & 0xFFFFFFFF
    first = FIRST[h % len(FIRST)]
    last = LAST[(h >> 11) % len(LAST)]
    return first, last


def login_of(first: str, last: str, i: int) -> str:
    return (first[0] + "".join(ch for ch in last if ch.isalpha())).lower() + f"{i:06d}"


class IdentityState:
    __slots__ = ("i", "name", "id", "first", "last", "display", "login", "email", "emp", "dept", "title",
                 "location", "etype", "manager", "assigned", "detected", "held_roles", "ents", "apps",
                 "req_missing", "req_total", "halfs", "violating_role", "violating_ent")


def generate_identity(m: Model, i: int, rng: random.Random) -> IdentityState:
    st = IdentityState()
    st.i = i
    st.name = f"User.{i:06d}"
    st.id = hexid(10, i)
    first, last = identity_names(m.seed, i)
    st.first, st.last = first, last
    st.display = f"{first} {last}"
    st.login = login_of(first, last, i)
    st.email = f"{st.login}@corp.example"
    st.emp = f"E{i:06d}"
    d = m.dept_picker.pick(rng)
    st.dept = d
    st.title = f"{DEPT_SHORT[d]} {TITLES[min(int(rng.expovariate(0.45)), len(TITLES) - 1)]}"
    st.location = LOCATIONS[int(rng.random() * len(LOCATIONS))]
    st.etype = "Contractor" if rng.random() < 0.15 else "Employee"
    st.manager = rng.randrange(min(i, 2000)) if i > 0 else -1

    e_target = min(MAX_ENTS, max(MIN_ENTS, int(rng.lognormvariate(3.15, 0.6))))
    held = set()
    single_app = {}  # app -> single-valued ent id set on that account
    ent_single = m.ent_single
    ent_app = m.ent_app
    assigned = []
    req_missing = 0
    req_total = 0

    def provision(ents, drop_one):
        if drop_one and len(ents) > 1:
            skip = ents[int(rng.random() * len(ents))]
        else:
            skip = -1
        for e in ents:
            if e == skip:
                continue
            if ent_single[e]:
                a = ent_app[e]
                cur = single_app.get(a)
                if cur is None:
                    single_app[a] = e
                    held.add(e)
                # else: conflicting single value, the account keeps its value
            else:
                held.add(e)

    def add_business(r):
        nonlocal req_missing, req_total
        its = m.business_it[r]
        total = set(held)
        for x in its:
            total.update(m.it_prov[x])
        if len(total) > MAX_ENTS:
            return False
        assigned.append(r)
        for x in its:
            req_total += 1
            u = rng.random()
            if u < 0.04:
                req_missing += 1          # not provisioned at all
                continue
            provision(m.it_prov[x], u < 0.08)
        return True

    def add_it(r):
        ents = m.it_prov[r]
        if len(held) + len(ents) > MAX_ENTS and len(held.union(ents)) > MAX_ENTS:
            return False
        provision(ents, False)
        return True

    # Rare, sensitive access (the population SoD constraints are drawn from).
    if rng.random() < 0.10:
        for _ in range(1 if rng.random() < 0.7 else 2):
            sens = m.dept_sens_own[d] if rng.random() < 0.8 else m.sens_global
            r = sens[int(rng.random() * len(sens))]
            if r >= N_IT_ROLES:
                if r not in assigned:
                    add_business(r)
            else:
                add_it(r)
    if rng.random() < 0.08:
        apps = m.dept_apps[d]
        a = apps[int(rng.random() * len(apps))]
        for _ in range(1 if rng.random() < 0.6 else 2):
            if rng.random() < 0.3:
                a = apps[int(rng.random() * len(apps))]
            sp = m.app_sensitive_pool[a]
            held.add(sp[int(rng.random() * len(sp))])

    # Ordinary access: 1-15 roles (Zipf-skewed), counted as assigned business roles plus the IT roles they
    # require, plus birthright-like IT roles held directly.
    slots = m.n_roles_picker.pick(rng)
    bp, ip = m.dept_business_picker[d], m.dept_it_picker[d]
    used = 0
    tries = 0
    while used < slots and tries < 3 * MAX_ROLE_SLOTS:
        tries += 1
        if rng.random() < 0.6:
            r = bp.pick(rng)
            cost = 1 + len(m.business_it[r])
            if r not in assigned and used + cost <= slots and add_business(r):
                used += cost
        else:
            if add_it(ip.pick(rng)):
                used += 1

    # Accounts: the applications touched so far, plus a few more from the department's set.
    apps = {ent_app[e] for e in held}
    want = m.n_accounts_picker.pick(rng)
    dept_apps = m.dept_apps[d]
    tries = 0
    while len(apps) < want and tries < 12:
        tries += 1
        apps.add(dept_apps[0] if (not apps and rng.random() < 0.6) else dept_apps[int(rng.random() * 5)])
    if not apps:
        apps.add(0)
    app_list = sorted(apps)

    # Direct (non-role) entitlements up to the target count.
    need = e_target - len(held)
    tries = 0
    while need > 0 and tries < 4 * e_target:
        tries += 1
        a = app_list[int(rng.random() * len(app_list))]
        if rng.random() < 0.97:
            e = m.app_loose_picker[a].pick(rng)
        else:
            rp = m.app_role_pool[a]
            e = rp[int(rng.random() * len(rp))]
        if e not in held:
            held.add(e)
            need -= 1
    for a in app_list:
        sp = m.app_single_picker[a]
        if sp is not None and a not in single_app and len(held) < MAX_ENTS and rng.random() < 0.35:
            e = sp.pick(rng)
            single_app[a] = e
            held.add(e)

    # Detection (IIQ EntitlementCorrelator semantics, see module docstring).
    cands = set()
    ent_roles = m.ent_roles
    for e in held:
        rs = ent_roles[e]
        if rs:
            cands.update(rs)
    memo = {}
    profiles, role_or, inherits = m.role_profiles, m.role_or, m.role_inherits

    def matches(r):
        v = memo.get(r)
        if v is None:
            ps = profiles[r]
            if role_or[r]:
                v = any(p <= held for p in ps)
            else:
                v = all(p <= held for p in ps)
            if v:
                for s in inherits[r]:
                    if not matches(s):
                        v = False
                        break
            memo[r] = v
        return v

    # Only the most specific match of a branch is detected (evaluateTopDown): a matching
    # role with a matching role below it is held through that one instead.
    matched = [r for r in cands if matches(r)]
    shadowed = set()
    for r in matched:
        shadowed |= m.up_closure[r] - {r}
    detected = sorted(r for r in matched if r not in shadowed)
    assigned.sort()
    st.assigned = assigned
    st.detected = detected
    hr = set()
    up = m.up_closure
    for r in assigned:
        hr |= up[r]
    for r in detected:
        hr |= up[r]
    st.held_roles = hr
    st.ents = sorted(held)
    st.apps = app_list
    st.req_missing = req_missing
    st.req_total = req_total

    # Constraint hits.
    hits = {}
    vr = ve = False
    rc, ec = m.role_cons, m.ent_cons
    for r in hr:
        lst = rc.get(r)
        if lst:
            for ci, bit in lst:
                hits[ci] = hits.get(ci, 0) | bit
    for e in held:
        lst = ec.get(e)
        if lst:
            for ci, bit in lst:
                hits[ci] = hits.get(ci, 0) | bit
    halfs = []
    for ci, mask in hits.items():
        if mask == 3:
            if m.constraints[ci]["kind"] == "role":
                vr = True
            else:
                ve = True
        else:
            halfs.append((ci, mask))
    halfs.sort()
    st.halfs = halfs
    st.violating_role, st.violating_ent = vr, ve
    return st


# --------------------------------------------------------------------------------------------------
# Serialisation of identities
# --------------------------------------------------------------------------------------------------

def account_fields(st: IdentityState):
    return dict(login=st.login, LOGIN=st.login.upper(), email=st.email, display=st.display,
                DISPLAY=st.display.upper(), first=st.first, last=st.last, emp=st.emp,
                RACF=("U" + st.login[:2] + f"{st.i:06d}").upper())


def group_accounts(m: Model, st: IdentityState):
    """-> list of (app idx, {attr idx: [ent ids]})."""
    out = {}
    for e in st.ents:  # sorted: app-major, attribute-major
        a = m.ent_app[e]
        attrs = out.get(a)
        if attrs is None:
            attrs = out[a] = {}
        attrs.setdefault(m.ent_attr[e], []).append(e)
    return [(a, out.get(a, {})) for a in st.apps]


def link_id(i: int, a: int) -> str:
    return hexid(11, i * 32 + a)


def identity_xml(m: Model, st: IdentityState, accounts, fields) -> str:
    p = []
    ap = p.append
    ap(f'  <Identity id="{st.id}" name="{st.name}">\n    <Attributes>\n      <Map>\n')
    ap(f'        <entry key="department" value="{xesc(DEPARTMENTS[st.dept])}"/>\n')
    ap(f'        <entry key="displayName" value="{xesc(st.display)}"/>\n')
    ap(f'        <entry key="email" value="{st.email}"/>\n')
    ap(f'        <entry key="employeeId" value="{st.emp}"/>\n')
    ap(f'        <entry key="employeeType" value="{st.etype}"/>\n')
    ap(f'        <entry key="firstname" value="{xesc(st.first)}"/>\n')
    ap(f'        <entry key="lastname" value="{xesc(st.last)}"/>\n')
    ap(f'        <entry key="location" value="{st.location}"/>\n')
    ap(f'        <entry key="title" value="{xesc(st.title)}"/>\n')
    ap('      </Map>\n    </Attributes>\n')
    if st.manager >= 0:
        ap(f'    <Manager>\n      <Reference class="sailpoint.object.Identity" name="User.{st.manager:06d}"/>\n'
           '    </Manager>\n')
    if st.assigned:
        ap('    <AssignedRoles>\n')
        for r in st.assigned:
            ap('      ' + m.role_ref[r] + '\n')
        ap('    </AssignedRoles>\n')
    if st.detected:
        ap('    <Bundles>\n')
        for r in st.detected:
            ap('      ' + m.role_ref[r] + '\n')
        ap('    </Bundles>\n')
    ap('    <Links>\n')
    ent_esc = m.ent_esc
    for a, attrs in accounts:
        app = m.apps[a]
        t = app["t"]
        native = xesc(t["native"].format(**fields))
        disp = xesc(fields[t["dispfield"]])
        ap(f'      <Link id="{link_id(st.i, a)}" nativeIdentity="{native}" displayName="{disp}">\n'
           f'        {app["ref"]}\n        <Attributes>\n          <Map>\n')
        for key, kind, val in app_entries(m, a, attrs, fields):
            if kind == 0:
                ap(f'            <entry key="{key}" value="{xesc(val)}"/>\n')
            elif kind == 1:
                ap(f'            <entry key="{key}">\n              <value>\n                <List>\n')
                for e in val:
                    ap(f'                  <String>{ent_esc[e]}</String>\n')
                ap('                </List>\n              </value>\n            </entry>\n')
            else:
                ap(f'            <entry key="{key}" value="{ent_esc[val]}"/>\n')
        ap('          </Map>\n        </Attributes>\n      </Link>\n')
    ap('    </Links>\n  </Identity>\n')
    return "".join(p)


_APP_ENTRY_ORDER = {}


def app_entries(m: Model, a: int, attrs, fields):
    """Account attributes in key order: (key, kind, value); kind 0 plain string, 1 multi list, 2 single."""
    order = _APP_ENTRY_ORDER.get(a)
    if order is None:
        t = m.apps[a]["t"]
        items = [(k, 0, fmt) for k, fmt in t["other"]]
        for ai, (attr, single) in enumerate(m.app_attrs[a]):
            items.append((attr, 2 if single else 1, ai))
        items.sort(key=lambda x: x[0])
        order = _APP_ENTRY_ORDER[a] = items
    out = []
    for key, kind, x in order:
        if kind == 0:
            out.append((key, 0, x.format(**fields)))
        else:
            es = attrs.get(x)
            if es:
                out.append((key, kind, es if kind == 1 else es[0]))
    return out


def identity_scim(m: Model, st: IdentityState, accounts, fields):
    """-> (User resource dict, [Account resource dicts])."""
    user_loc = f"{BASE_URL}/Users/{st.id}"
    acct_items, ent_items, account_res = [], [], []
    native_of = {}
    for a, attrs in accounts:
        app = m.apps[a]
        t = app["t"]
        lid = link_id(st.i, a)
        native = t["native"].format(**fields)
        native_of[a] = native
        disp = fields[t["dispfield"]]
        acct_items.append({"value": lid, "displayName": disp, "$ref": f"{BASE_URL}/Accounts/{lid}"})
        schema_attrs = {}
        has_ents = False
        for key, kind, val in app_entries(m, a, attrs, fields):
            if kind == 0:
                schema_attrs[key] = val
            elif kind == 1:
                schema_attrs[key] = [m.ent_value[e] for e in val]
                has_ents = True
            else:
                schema_attrs[key] = m.ent_value[val]
                has_ents = True
        for ai in sorted(attrs):
            for e in attrs[ai]:
                ent_items.append({"value": m.ent_attr_name[e], "display": m.ent_value[e], "type": "Entitlement",
                                  "application": app["name"], "accountName": native})
        account_res.append({
            "schemas": [ACCOUNT_URN, app["urn"]],
            "id": lid,
            "nativeIdentity": native,
            "displayName": disp,
            "active": True,
            "locked": False,
            "manuallyCorrelated": False,
            "hasEntitlements": has_ents,
            "identity": {"value": st.id, "userName": st.name, "displayName": st.display, "$ref": user_loc},
            "application": {"value": app["id"], "displayName": app["name"],
                            "$ref": f"{BASE_URL}/Applications/{app['id']}"},
            app["urn"]: schema_attrs,
            "meta": {"resourceType": "Account", "location": f"{BASE_URL}/Accounts/{lid}"},
        })
    roles = []
    for r in st.assigned:
        roles.append({"value": "assignedRoles", "display": m.role_name[r], "type": m.role_type[r],
                      "acquired": "Assigned"})
    for r in st.detected:
        a = m.role_first_app[r]
        item = {"value": "detectedRoles", "display": m.role_name[r], "type": m.role_type[r],
                "acquired": "Detected"}
        if a in native_of:
            item["application"] = m.apps[a]["name"]
            item["accountName"] = native_of[a]
        roles.append(item)
    user = {
        "schemas": USER_SCHEMAS,
        "id": st.id,
        "userName": st.name,
        "name": {"formatted": st.display, "familyName": st.last, "givenName": st.first},
        "displayName": st.display,
        "active": True,
        "userType": st.etype,
        "title": st.title,
        "emails": [{"value": st.email, "type": "work", "primary": True}],
    }
    ent = {"employeeNumber": st.emp, "department": DEPARTMENTS[st.dept]}
    if st.manager >= 0:
        mf, ml = identity_names(m.seed, st.manager)
        ent["manager"] = {"value": hexid(10, st.manager), "displayName": f"{mf} {ml}",
                          "$ref": f"{BASE_URL}/Users/{hexid(10, st.manager)}"}
    user[ENTERPRISE_URN] = ent
    user[SAILPOINT_USER_URN] = {"accounts": acct_items, "roles": roles, "entitlements": ent_items}
    user["meta"] = {"resourceType": "User", "location": user_loc}
    return user, account_res


# --------------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------------

def plan_json(m: Model, st: IdentityState, fields, items) -> str:
    """items: list of ("role", role) | ("ent", ent id) | ("ents", [ent ids]). Strict JSON toMap plan."""
    accounts = {}  # key -> dict (insertion ordered)

    def account(app_name, native, op):
        key = app_name
        acc = accounts.get(key)
        if acc is None:
            acc = accounts[key] = {"application": app_name, "instance": None, "nativeIdentity": native,
                                   "op": op, "attributes": {}}
        return acc

    for kind, x in items:
        if kind == "role":
            acc = account("IIQ", None, "Modify")
            acc["attributes"].setdefault("assignedRoles", []).append(m.role_name[x])
        else:
            ents = [x] if kind == "ent" else x
            for e in ents:
                a = m.ent_app[e]
                app = m.apps[a]
                if a in st.apps:
                    acc = account(app["name"], app["t"]["native"].format(**fields), "Modify")
                else:
                    acc = account(app["name"], app["t"]["native"].format(**fields), "Create")
                vals = acc["attributes"].setdefault(m.ent_attr_name[e], [])
                if m.ent_value[e] not in vals:
                    vals.append(m.ent_value[e])
    out = []
    for acc in accounts.values():
        attrs = [{"name": k, "op": "Add", "value": v[0] if len(v) == 1 else v}
                 for k, v in acc["attributes"].items()]
        out.append({"application": acc["application"], "instance": None, "nativeIdentity": acc["nativeIdentity"],
                    "op": acc["op"], "attributes": attrs})
    return json.dumps({"identity": st.name, "accounts": out}, separators=(",", ":"))


def random_items(m: Model, st: IdentityState, rng: random.Random, n: int, items, taken):
    held = set(st.ents)
    for _ in range(n):
        for _try in range(8):
            if rng.random() < 0.5:
                d = st.dept if rng.random() < 0.8 else m.dept_picker.pick(rng)
                r = m.dept_business_picker[d].pick(rng) if rng.random() < 0.95 else \
                    rng.choice(m.dept_sens_roles[d])
                if r in st.assigned or ("role", r) in taken:
                    continue
                if r < N_IT_ROLES:
                    continue
                it = ("role", r)
            else:
                a = st.apps[int(rng.random() * len(st.apps))]
                if rng.random() < 0.1:
                    e = rng.choice(m.app_sensitive_pool[a])
                else:
                    e = m.app_ent_picker[a].pick(rng)
                if e in held or ("ent", e) in taken:
                    continue
                it = ("ent", e)
            items.append(it)
            taken.add(it)
            break


def targeted_items(m: Model, st: IdentityState, rng: random.Random):
    ci, mask = st.halfs[int(rng.random() * len(st.halfs))]
    c = m.constraints[ci]
    missing = c["right"] if mask == 1 else c["left"]
    if c["kind"] == "role":
        x = missing[int(rng.random() * len(missing))]
        if x < N_IT_ROLES and rng.random() < 0.5 and all(m.ent_app[e] in st.apps for e in m.it_prov[x]):
            item = ("ents", [e for e in m.it_prov[x] if e not in set(st.ents)] or list(m.it_prov[x]))
        else:
            item = ("role", x)
    else:
        on_acct = [e for e in missing if m.ent_app[e] in st.apps]
        pool = on_acct or missing
        item = ("ent", pool[int(rng.random() * len(pool))])
    return c, item


def build_request(m: Model, st: IdentityState, rng: random.Random, targeted: bool):
    fields = account_fields(st)
    items, taken = [], set()
    cname = None
    if targeted:
        c, item = targeted_items(m, st, rng)
        cname = c["name"]
        items.append(item)
        taken.add(item if item[0] != "ents" else ("ents", 0))
        extra = rng.choice([0, 0, 1, 2])
    else:
        extra = weights_picker([1, 2, 3], [50, 30, 20]).pick(rng)
    random_items(m, st, rng, extra, items, taken)
    if not items:  # cannot happen in practice; keep the request well-formed
        items.append(("role", m.dept_business_picker[st.dept].pool[0]))
    value = plan_json(m, st, fields, items)
    body = json.dumps({"identity": st.name, "plan": {"type": PLAN_TYPE, "value": value}},
                      separators=(",", ":"))
    kinds = sorted({k if k != "ents" else "role_entitlements" for k, _ in items})
    meta = {"identity": st.name, "targeted": targeted, "constraint": cname, "items": len(items), "kinds": kinds}
    return body, meta


# --------------------------------------------------------------------------------------------------
# Chunk worker
# --------------------------------------------------------------------------------------------------

_MODEL: Model | None = None
_ARGS = None


def chunk_bounds(n, size, c):
    return c * size, min(n, (c + 1) * size)


def gen_chunk(c: int):
    m, args = _MODEL, _ARGS
    n, size, k = args.identities, args.chunk_size, args.requests
    start, end = chunk_bounds(n, size, c)
    rng = random.Random(f"{m.seed}/identities/{c}")
    rrng = random.Random(f"{m.seed}/requests/{c}")
    k_c = k * end // n - k * start // n
    t_total = int(k * TARGETED_FRACTION)
    t_c = min(k_c, t_total * end // n - t_total * start // n)
    u_c = k_c - t_c
    untargeted = {}
    for i in rrng.choices(range(start, end), k=u_c):
        untargeted[i] = untargeted.get(i, 0) + 1
    reservoir, seen, fallback = [], 0, []
    requests = []  # (identity index, order within identity, body, meta)
    want_xml = args.format in ("xml", "both")
    want_scim = args.format in ("scim", "both")
    xml_f = scim_u = scim_a = None
    bytes_xml = bytes_scim = 0
    if want_xml:
        xml_f = open(os.path.join(args.out, "xml", f"identities-{c:05d}.xml"), "w", encoding="utf-8",
                     newline="\n")
        xml_f.write(XML_HEADER)
    if want_scim:
        scim_u = open(os.path.join(args.out, "scim", f"Users-{c:05d}.json"), "w", encoding="utf-8",
                      newline="\n")
        scim_a = open(os.path.join(args.out, "scim", f"Accounts-{c:05d}.json"), "w", encoding="utf-8",
                      newline="\n")
        scim_u.write(f'{{"schemas":["{LIST_RESPONSE_URN}"],"totalResults":{n},"startIndex":{start + 1},'
                     f'"itemsPerPage":{end - start},"Resources":[\n')
    stats = dict(identities=0, assigned=0, detected=0, held=0, ents=0, accounts=0, max_roles=0, max_ents=0,
                 min_ents=10 ** 9, viol_any=0, viol_role=0, viol_ent=0, half=0, req_total=0, req_missing=0,
                 detected_required=0)
    role_holders = [0] * (N_IT_ROLES + N_BUSINESS_ROLES)
    ent_holders = [0] * N_ENTITLEMENTS
    user_buf, acct_buf = [], []
    acct_total = 0
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    for i in range(start, end):
        st = generate_identity(m, i, rng)
        accounts = group_accounts(m, st)
        fields = account_fields(st)
        if want_xml:
            xml_f.write(identity_xml(m, st, accounts, fields))
        if want_scim:
            user, accts = identity_scim(m, st, accounts, fields)
            user_buf.append(dumps(user))
            for a in accts:
                acct_buf.append(dumps(a))
            acct_total += len(accts)
            if len(user_buf) >= 500:
                scim_u.write(",\n".join(user_buf) + (",\n" if i + 1 < end else ""))
                user_buf.clear()
        # stats
        s = stats
        s["identities"] += 1
        s["assigned"] += len(st.assigned)
        s["detected"] += len(st.detected)
        s["held"] += len(st.held_roles)
        s["ents"] += len(st.ents)
        s["accounts"] += len(st.apps)
        nr = len(st.assigned) + len(st.detected)
        if nr > s["max_roles"]:
            s["max_roles"] = nr
        ne = len(st.ents)
        if ne > s["max_ents"]:
            s["max_ents"] = ne
        if ne < s["min_ents"]:
            s["min_ents"] = ne
        if st.violating_role or st.violating_ent:
            s["viol_any"] += 1
        s["viol_role"] += st.violating_role
        s["viol_ent"] += st.violating_ent
        s["half"] += bool(st.halfs)
        s["req_total"] += st.req_total
        s["req_missing"] += st.req_missing
        det = set(st.detected)
        for b in st.assigned:
            for x in m.business_it[b]:
                s["detected_required"] += x in det
        for r in st.held_roles:
            role_holders[r] += 1
        for e in st.ents:
            ent_holders[e] += 1
        # requests
        cnt = untargeted.get(i)
        if cnt:
            for q in range(cnt):
                body, meta = build_request(m, st, rrng, False)
                requests.append((i, q, body, meta))
        if t_c > 0:  # uniform sample of identity states, used only if targeted candidates run short
            if len(fallback) < t_c:
                fallback.append(st)
            else:
                j = rrng.randrange(i - start + 1)
                if j < t_c:
                    fallback[j] = st
        if st.halfs and t_c > 0:
            seen += 1
            if len(reservoir) < t_c:
                body, meta = build_request(m, st, rrng, True)
                reservoir.append((i, 1000, body, meta))
            else:
                j = rrng.randrange(seen)
                if j < t_c:
                    body, meta = build_request(m, st, rrng, True)
                    reservoir[j] = (i, 1000, body, meta)
    shortfall = t_c - len(reservoir)
    if shortfall > 0:  # not enough half-holders in this chunk: fall back to untargeted requests
        for q, st in enumerate(fallback[:shortfall]):
            body, meta = build_request(m, st, rrng, False)
            requests.append((st.i, 2000 + q, body, meta))
    requests.extend(reservoir)
    requests.sort(key=lambda x: (x[0], x[1]))
    if want_xml:
        xml_f.write(XML_FOOTER)
        xml_f.close()
        bytes_xml = os.path.getsize(xml_f.name)
    if want_scim:
        scim_u.write(",\n".join(user_buf) + "\n]}\n")
        scim_u.close()
        # totalResults and startIndex depend on other chunks: fixed-width placeholders, patched by main().
        scim_a.write(f'{{"schemas":["{LIST_RESPONSE_URN}"],"totalResults":{ACCT_PLACEHOLDER},'
                     f'"startIndex":{ACCT_PLACEHOLDER},"itemsPerPage":{acct_total},"Resources":[\n')
        scim_a.write(",\n".join(acct_buf) + "\n]}\n")
        scim_a.close()
        bytes_scim = os.path.getsize(scim_u.name) + os.path.getsize(scim_a.name)
    stats["accounts_scim"] = acct_total
    return dict(chunk=c, stats=stats, role_holders=role_holders, ent_holders=ent_holders,
                requests=[(b, mt) for _, _, b, mt in requests], bytes_xml=bytes_xml, bytes_scim=bytes_scim)


# --------------------------------------------------------------------------------------------------
# Model serialisation (applications, roles, policies)
# --------------------------------------------------------------------------------------------------

def write_applications(m: Model, path: str):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(XML_HEADER)
        for app in m.apps:
            t = app["t"]
            f.write(f'  <Application id="{app["id"]}" name="{app["esc"]}" type="{xesc(t["type"])}" '
                    f'connector="{t["connector"]}" featuresString="PROVISIONING, SEARCH, ENABLE">\n')
            f.write('    <Attributes>\n      <Map>\n'
                    '        <entry key="sysDescriptions">\n          <value>\n            <Map>\n'
                    f'              <entry key="en_US" value="{xesc(t["type"])} connector for {app["esc"]}"/>\n'
                    '            </Map>\n          </value>\n        </entry>\n      </Map>\n    </Attributes>\n')
            f.write('    <Owner>\n      <Reference class="sailpoint.object.Identity" name="spadmin"/>\n    </Owner>\n')
            f.write('    <Schemas>\n'
                    f'      <Schema displayAttribute="{t["display"]}" identityAttribute="{t["identity"]}" '
                    'nativeObjectType="user" objectType="account">\n')
            defs = [(k, False, False) for k, _ in t["other"]]
            defs += [(attr, not single, True) for attr, single in m.app_attrs[app["idx"]]]
            names = {k for k, _, _ in defs}
            if t["identity"] not in names:
                defs.append((t["identity"], False, False))
            for k, multi, ent in sorted(defs):
                extra = ""
                if ent and multi:
                    extra = ' entitlement="true" managed="true" multi="true" schemaObjectType="group"'
                elif ent:
                    extra = ' entitlement="true" managed="true"'
                f.write(f'        <AttributeDefinition{extra} name="{k}" type="string"/>\n')
            f.write('      </Schema>\n    </Schemas>\n  </Application>\n')
        f.write(XML_FOOTER)


def write_roles(m: Model, path: str):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(XML_HEADER)
        for r in m.roles:
            attrs = f'id="{r["id"]}" name="{xesc(r["name"])}" type="{r["type"]}"'
            if r["or_profiles"]:
                attrs += ' orProfiles="true"'
            p = [f'  <Bundle {attrs}>\n']
            p.append('    <Attributes>\n      <Map>\n'
                     '        <entry key="allowDuplicateAccounts" value="false"/>\n'
                     '        <entry key="allowMultipleAssignments" value="false"/>\n'
                     '        <entry key="mergeTemplates" value="false"/>\n'
                     '      </Map>\n    </Attributes>\n')
            if r["inherits"]:
                p.append('    <Inheritance>\n')
                p.extend(f'      {m.role_ref[x]}\n' for x in r["inherits"])
                p.append('    </Inheritance>\n')
            p.append('    <Owner>\n      <Reference class="sailpoint.object.Identity" name="spadmin"/>\n'
                     '    </Owner>\n')
            if r["permits"]:
                p.append('    <Permits>\n')
                p.extend(f'      {m.role_ref[x]}\n' for x in r["permits"])
                p.append('    </Permits>\n')
            if r["profiles"]:
                p.append('    <Profiles>\n')
                for a, ents in r["profiles"]:
                    p.append(f'      <Profile>\n        {m.apps[a]["ref"]}\n        <Constraints>\n')
                    multi = {}
                    singles = []
                    for e in ents:
                        if m.ent_single[e]:
                            singles.append(e)
                        else:
                            multi.setdefault(m.ent_attr_name[e], []).append(e)
                    for attr, es in multi.items():
                        p.append(f'          <Filter operation="CONTAINS_ALL" property="{attr}">\n'
                                 '            <Value>\n              <List>\n')
                        p.extend(f'                <String>{m.ent_esc[e]}</String>\n' for e in es)
                        p.append('              </List>\n            </Value>\n          </Filter>\n')
                    for e in singles:
                        p.append(f'          <Filter operation="EQ" property="{m.ent_attr_name[e]}" '
                                 f'value="{m.ent_esc[e]}"/>\n')
                    p.append('        </Constraints>\n      </Profile>\n')
                p.append('    </Profiles>\n')
            if r["requires"]:
                p.append('    <Requirements>\n')
                p.extend(f'      {m.role_ref[x]}\n' for x in r["requires"])
                p.append('    </Requirements>\n')
            p.append('  </Bundle>\n')
            f.write("".join(p))
        f.write(XML_FOOTER)


def policy_groups(m: Model):
    """Constraints grouped into Policy objects: one role SoD and one entitlement SoD policy per department,
    plus a cross-department role SoD policy."""
    groups = {}
    for ci, c in enumerate(m.constraints):
        if c["kind"] == "role":
            name = "Cross-Department Role SoD" if c["dept"] < 0 else f"{DEPARTMENTS[c['dept']]} Role SoD"
            key = (0, c["dept"] if c["dept"] >= 0 else 99)
        else:
            name = f"{DEPARTMENTS[c['dept']]} Entitlement SoD"
            key = (1, c["dept"])
        g = groups.setdefault(key, dict(name=name, kind=c["kind"], items=[]))
        g["items"].append(ci)
    return [groups[k] for k in sorted(groups)]


def write_policies(m: Model, path: str):
    ref_app = lambda a: m.apps[a]["ref"]  # noqa: E731
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(XML_HEADER)
        for pi, g in enumerate(policy_groups(m)):
            name = xesc(g["name"])
            if g["kind"] == "role":
                f.write(f'  <Policy id="{hexid(5, pi)}" certificationActions="Remediated,Mitigated,Delegated" '
                        'configPage="sodpolicy.xhtml" executor="sailpoint.policy.SODPolicyExecutor" '
                        f'name="{name}" state="Active" type="SOD" typeKey="policy_type_sod" '
                        'violationOwnerType="Manager">\n')
            else:
                f.write(f'  <Policy id="{hexid(5, pi)}" certificationActions="Remediated,Mitigated,Delegated" '
                        'configPage="entitlementPolicy.xhtml" '
                        'executor="sailpoint.policy.EntitlementSODPolicyExecutor" '
                        f'name="{name}" state="Active" type="EntitlementSOD" '
                        'typeKey="policy_type_entitlement_sod" violationOwnerType="Identity">\n')
            f.write('    <PolicyAlert disabled="true" escalationStyle="none"/>\n'
                    '    <Owner>\n      <Reference class="sailpoint.object.Identity" name="spadmin"/>\n'
                    '    </Owner>\n')
            p = []
            if g["kind"] == "role":
                p.append('    <SODConstraints>\n')
                for ci in g["items"]:
                    c = m.constraints[ci]
                    p.append(f'      <SODConstraint id="{hexid(6, ci)}" name="{xesc(c["name"])}" '
                             'violationOwnerType="None">\n')
                    if c["description"]:
                        p.append(f'        <Description>{xesc(c["description"])}</Description>\n')
                    p.append('        <LeftBundles>\n')
                    p.extend(f'          {m.role_ref[x]}\n' for x in c["left"])
                    p.append('        </LeftBundles>\n        <RightBundles>\n')
                    p.extend(f'          {m.role_ref[x]}\n' for x in c["right"])
                    p.append('        </RightBundles>\n      </SODConstraint>\n')
                p.append('    </SODConstraints>\n')
            else:
                p.append('    <GenericConstraints>\n')
                for ci in g["items"]:
                    c = m.constraints[ci]
                    p.append(f'      <GenericConstraint id="{hexid(6, ci)}" name="{xesc(c["name"])}" '
                             'violationOwnerType="None">\n')
                    for side in (c["left"], c["right"]):
                        p.append('        <IdentitySelector>\n          <MatchExpression>\n')
                        for e in side:
                            p.append(f'            <MatchTerm name="{m.ent_attr_name[e]}" type="Entitlement" '
                                     f'value="{m.ent_esc[e]}">\n              {ref_app(m.ent_app[e])}\n'
                                     '            </MatchTerm>\n')
                        p.append('          </MatchExpression>\n        </IdentitySelector>\n')
                    p.append('      </GenericConstraint>\n')
                p.append('    </GenericConstraints>\n')
            p.append('  </Policy>\n')
            f.write("".join(p))
        f.write(XML_FOOTER)


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", "-o", required=True, help="output directory (created; must be empty or absent)")
    ap.add_argument("--identities", type=int, default=100_000, help="number of identities (10,000-1,000,000)")
    ap.add_argument("--constraints", type=int, default=1000, help="number of SoD constraints")
    ap.add_argument("--requests", type=int, default=10_000, help="number of CheckedPolicyViolations requests")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--format", choices=["xml", "scim", "both"], default="xml")
    ap.add_argument("--chunk-size", type=int, default=10_000, help="identities per chunk file / SCIM page")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (output is the "
                    "same for any value)")
    ap.add_argument("--allow-small", action="store_true", help="allow fewer than 10,000 identities (tests)")
    ap.add_argument("--force", action="store_true", help="allow a non-empty output directory")
    args = ap.parse_args(argv)
    if not args.allow_small and not (10_000 <= args.identities <= 1_000_000):
        ap.error("--identities must be within 10,000..1,000,000 (use --allow-small for tests)")
    if args.identities < 1 or args.constraints < 2 or args.requests < 0 or args.chunk_size < 1:
        ap.error("bad sizes")
    return args


def main(argv=None):
    global _MODEL, _ARGS
    args = parse_args(argv)
    t0 = time.perf_counter()
    if os.path.exists(args.out) and os.listdir(args.out):
        if not args.force:
            sys.exit(f"gen_workload: output directory {args.out} is not empty (use --force)")
        # Remove only what this generator writes, so no stale chunk of an earlier, larger run survives.
        for d in ("xml", "scim"):
            shutil.rmtree(os.path.join(args.out, d), ignore_errors=True)
        for fn in ("requests.jsonl", "requests.meta.jsonl", "manifest.json"):
            if os.path.exists(os.path.join(args.out, fn)):
                os.remove(os.path.join(args.out, fn))
    os.makedirs(args.out, exist_ok=True)
    dirs = []
    if args.format in ("xml", "both"):
        dirs.append("xml")
    if args.format in ("scim", "both"):
        dirs.append("scim")
    for d in dirs:
        os.makedirs(os.path.join(args.out, d), exist_ok=True)
    m = Model(args.seed, args.constraints)
    _MODEL, _ARGS = m, args
    first = os.path.join(args.out, dirs[0])
    write_applications(m, os.path.join(first, "applications.xml"))
    write_roles(m, os.path.join(first, "roles.xml"))
    write_policies(m, os.path.join(first, "policies.xml"))
    for d in dirs[1:]:
        for fn in ("applications.xml", "roles.xml", "policies.xml"):
            shutil.copyfile(os.path.join(first, fn), os.path.join(args.out, d, fn))
    t_model = time.perf_counter()

    n_chunks = (args.identities + args.chunk_size - 1) // args.chunk_size
    jobs = max(1, min(args.jobs, n_chunks))
    if jobs > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(jobs) as pool:
            results = list(pool.imap(gen_chunk, range(n_chunks)))
    else:
        results = [gen_chunk(c) for c in range(n_chunks)]
    t_ids = time.perf_counter()
    if "scim" in dirs:  # patch the Accounts pages' totalResults / startIndex now that all counts are known
        total_accts = sum(r["stats"]["accounts_scim"] for r in results)
        start_idx = 1
        for r in results:
            path = os.path.join(args.out, "scim", f"Accounts-{r['chunk']:05d}.json")
            with open(path, "r+b") as f:
                head = f.read(256)
                for key, val in ((b'"totalResults":', total_accts), (b'"startIndex":', start_idx)):
                    pos = head.index(key) + len(key)
                    f.seek(pos)
                    f.write(f"{val:>12d}".encode())
            start_idx += r["stats"]["accounts_scim"]

    # Requests, shuffled deterministically.
    reqs = []
    for r in results:
        reqs.extend(r["requests"])
    random.Random(f"{args.seed}/requests-order").shuffle(reqs)
    req_path = os.path.join(args.out, "requests.jsonl")
    meta_path = os.path.join(args.out, "requests.meta.jsonl")
    with open(req_path, "w", encoding="utf-8", newline="\n") as f:
        for body, _ in reqs:
            f.write(body + "\n")
    with open(meta_path, "w", encoding="utf-8", newline="\n") as f:
        for _, meta in reqs:
            f.write(json.dumps(meta, separators=(",", ":")) + "\n")

    # Manifest.
    tot = {}
    for r in results:
        for k, v in r["stats"].items():
            if k.startswith("max"):
                tot[k] = max(tot.get(k, 0), v)
            elif k.startswith("min"):
                tot[k] = min(tot.get(k, 10 ** 9), v)
            else:
                tot[k] = tot.get(k, 0) + v
    role_holders = [sum(x) for x in zip(*(r["role_holders"] for r in results))]
    ent_holders = [sum(x) for x in zip(*(r["ent_holders"] for r in results))]
    n = args.identities
    cons_roles = sorted({x for c in m.constraints if c["kind"] == "role" for x in c["left"] + c["right"]})
    cons_ents = sorted({x for c in m.constraints if c["kind"] == "entitlement" for x in c["left"] + c["right"]})

    def frac(x):
        return round(x / n, 6)

    def file_bytes(d):
        p = os.path.join(args.out, d)
        fs = sorted(os.listdir(p))
        return dict(files=len(fs), bytes=sum(os.path.getsize(os.path.join(p, x)) for x in fs))

    n_role_c = sum(1 for c in m.constraints if c["kind"] == "role")
    n_ent_c = len(m.constraints) - n_role_c
    counts = dict(
        identities=n,
        applications=len(m.apps),
        entitlements=N_ENTITLEMENTS,
        entitlements_single_valued=sum(m.ent_single),
        entitlements_sensitive=sum(m.ent_sensitive),
        roles=len(m.roles),
        business_roles=N_BUSINESS_ROLES,
        it_roles=N_IT_ROLES,
        roles_with_inheritance=sum(1 for r in m.roles if r["inherits"]),
        roles_sensitive=sum(1 for r in m.roles if r["sensitive"]),
        it_roles_or_profiles=sum(1 for r in m.roles if r["or_profiles"]),
        profiles=sum(len(r["profiles"]) for r in m.roles),
        policies=len(policy_groups(m)),
        constraints=len(m.constraints),
        role_constraints=n_role_c,
        entitlement_constraints=n_ent_c,
        entitlement_constraints_same_application=sum(1 for c in m.constraints if c["same_app"]),
        accounts=tot["accounts"],
        requests=len(reqs),
        requests_targeted=sum(1 for _, mt in reqs if mt["targeted"]),
    )
    stats = dict(
        avg_assigned_roles=round(tot["assigned"] / n, 4),
        avg_detected_roles=round(tot["detected"] / n, 4),
        avg_roles=round((tot["assigned"] + tot["detected"]) / n, 4),
        avg_held_roles_with_inheritance=round(tot["held"] / n, 4),
        max_roles=tot["max_roles"],
        avg_entitlements=round(tot["ents"] / n, 4),
        min_entitlements=tot["min_ents"],
        max_entitlements=tot["max_ents"],
        avg_accounts=round(tot["accounts"] / n, 4),
        identities_violating=tot["viol_any"],
        identities_violating_role_sod=tot["viol_role"],
        identities_violating_entitlement_sod=tot["viol_ent"],
        fraction_violating=frac(tot["viol_any"]),
        identities_half_holding_a_constraint=tot["half"],
        required_it_roles_of_assigned_roles=tot["req_total"],
        required_it_roles_not_provisioned=tot["req_missing"],
        required_it_roles_detected=tot["detected_required"],
        constraint_roles_max_holder_fraction=frac(max((role_holders[x] for x in cons_roles), default=0)),
        constraint_roles_mean_holder_fraction=frac(sum(role_holders[x] for x in cons_roles) /
                                                   max(1, len(cons_roles))),
        constraint_entitlements_max_holder_fraction=frac(max((ent_holders[x] for x in cons_ents), default=0)),
        constraint_entitlements_mean_holder_fraction=frac(sum(ent_holders[x] for x in cons_ents) /
                                                          max(1, len(cons_ents))),
    )
    files = {d: file_bytes(d) for d in dirs}
    files["requests"] = dict(files=2, bytes=os.path.getsize(req_path) + os.path.getsize(meta_path))
    manifest = dict(
        generator="benchmarks/gen_workload.py",
        version=1,
        seed=args.seed,
        parameters=dict(identities=n, constraints=args.constraints, requests=args.requests,
                        format=args.format, chunk_size=args.chunk_size, targeted_fraction=TARGETED_FRACTION,
                        applications=N_APPS, entitlements=N_ENTITLEMENTS, business_roles=N_BUSINESS_ROLES,
                        it_roles=N_IT_ROLES),
        layout=dict(
            xml=("xml/: applications.xml, roles.xml, policies.xml, identities-NNNNN.xml"
                 if "xml" in dirs else None),
            scim=("scim/: applications.xml, roles.xml, policies.xml (XML), Users-NNNNN.json, Accounts-NNNNN.json"
                  if "scim" in dirs else None),
            requests="requests.jsonl (request bodies), requests.meta.jsonl (same order: targeted, constraint)"),
        counts=counts,
        stats=stats,
        bytes=files,
    )
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(manifest, f, indent=2, sort_keys=False)
        f.write("\n")
    t_end = time.perf_counter()
    total_bytes = sum(v["bytes"] for v in files.values())
    print(f"gen_workload: {n} identities, {len(m.constraints)} constraints, {len(reqs)} requests -> {args.out} "
          f"({total_bytes / 2**20:.1f} MiB); model {t_model - t0:.2f}s, identities {t_ids - t_model:.2f}s "
          f"({jobs} jobs), total {t_end - t0:.2f}s", file=sys.stderr)
    return manifest


if __name__ == "__main__":
    main()
