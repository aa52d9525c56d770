"""Tests for benchmarks/gen_workload.py: determinism, well-formedness, and self-consistency of the data,
checked independently of the generator's own code (everything is re-derived from the written files)."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

GEN = Path(__file__).resolve().parents[2] / "benchmarks" / "gen_workload.py"
N, P, K, CHUNK, SEED = 200, 50, 60, 64, 424242


def run_gen(out: Path, *extra: str) -> None:
    cmd = [sys.executable, str(GEN), "--out", str(out), "--identities", str(N), "--allow-small",
           "--constraints", str(P), "--requests", str(K), "--chunk-size", str(CHUNK), "--seed", str(SEED),
           *extra]
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def tree_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("workload") / "out"
    run_gen(d, "--format", "both", "--jobs", "2")
    return d


# ---- independent readers of the written files --------------------------------------------------------

def ref_names(el) -> list[str]:
    return [r.get("name") for r in el.findall("Reference")] if el is not None else []


def read_roles(path: Path) -> dict[str, dict]:
    roles = {}
    for b in ET.parse(path).getroot().findall("Bundle"):
        profiles = []
        for p in b.findall("Profiles/Profile"):
            app = p.find("ApplicationRef/Reference").get("name")
            filters = []
            for f in p.findall("Constraints/Filter"):
                op, prop = f.get("operation"), f.get("property")
                if op == "CONTAINS_ALL":
                    filters.append((op, prop, [s.text for s in f.findall("Value/List/String")]))
                elif op == "EQ":
                    filters.append((op, prop, f.get("value")))
                else:
                    raise AssertionError(f"unexpected filter operation {op}")
            profiles.append((app, filters))
        roles[b.get("name")] = dict(type=b.get("type"), or_profiles=b.get("orProfiles") == "true",
                                    inherits=ref_names(b.find("Inheritance")),
                                    requires=ref_names(b.find("Requirements")),
                                    permits=ref_names(b.find("Permits")), profiles=profiles)
    return roles


def read_map(map_el) -> dict:
    attrs = {}
    for e in map_el.findall("entry"):
        lst = e.find("value/List")
        attrs[e.get("key")] = [s.text for s in lst.findall("String")] if lst is not None else e.get("value")
    return attrs


def read_identities(xml_dir: Path) -> dict[str, dict]:
    ids = {}
    for f in sorted(xml_dir.glob("identities-*.xml")):
        for el in ET.parse(f).getroot().findall("Identity"):
            links = {}
            for ln in el.findall("Links/Link"):
                app = ln.find("ApplicationRef/Reference").get("name")
                assert app not in links, "at most one account per application"
                links[app] = dict(id=ln.get("id"), native=ln.get("nativeIdentity"),
                                  attrs=read_map(ln.find("Attributes/Map")))
            ids[el.get("name")] = dict(id=el.get("id"), attrs=read_map(el.find("Attributes/Map")),
                                       assigned=ref_names(el.find("AssignedRoles")),
                                       detected=ref_names(el.find("Bundles")), links=links)
    return ids


def filter_matches(op, prop, want, attrs) -> bool:
    have = attrs.get(prop)
    if op == "CONTAINS_ALL":
        have_list = have if isinstance(have, list) else ([] if have is None else [have])
        return all(v in have_list for v in want)
    return isinstance(have, str) and have == want  # EQ never matches a multi-valued list


def expected_detected(roles, ident) -> list[str]:
    """IIQ detection: own profiles match (all, or any with orProfiles; each profile's filters all on the
    account of its application) and every inherited role matches (a role without profiles passes); only
    the most specific match of a branch is detected (EntitlementCorrelator.evaluateTopDown)."""
    memo = {}

    def own(name):
        r = roles[name]
        res = []
        for app, filters in r["profiles"]:
            link = ident["links"].get(app)
            res.append(link is not None and all(filter_matches(o, p, v, link["attrs"]) for o, p, v in filters))
        return any(res) if r["or_profiles"] else all(res)

    def matches(name):
        if name not in memo:
            r = roles[name]
            memo[name] = (own(name) if r["profiles"] else True) and all(matches(s) for s in r["inherits"])
        return memo[name]

    matched = {n for n, r in roles.items() if r["profiles"] and matches(n)}

    def ancestors(name, seen):
        for s in roles[name]["inherits"]:
            if s not in seen:
                seen.add(s)
                ancestors(s, seen)
        return seen

    shadowed = set()
    for n in matched:
        shadowed |= ancestors(n, set())
    return sorted(matched - shadowed)


def read_policies(path: Path):
    role_cons, ent_cons = [], []
    for pol in ET.parse(path).getroot().findall("Policy"):
        assert pol.get("state") == "Active"
        if pol.get("type") == "SOD":
            assert pol.get("executor") == "sailpoint.policy.SODPolicyExecutor"
            for c in pol.findall("SODConstraints/SODConstraint"):
                role_cons.append((c.get("name"), ref_names(c.find("LeftBundles")), ref_names(c.find("RightBundles"))))
        else:
            assert pol.get("type") == "EntitlementSOD"
            assert pol.get("executor") == "sailpoint.policy.EntitlementSODPolicyExecutor"
            for c in pol.findall("GenericConstraints/GenericConstraint"):
                sels = c.findall("IdentitySelector")
                assert len(sels) == 2
                sides = []
                for s in sels:
                    terms = s.findall("MatchExpression/MatchTerm")
                    assert 1 <= len(terms) <= 4
                    sides.append([(t.find("ApplicationRef/Reference").get("name"), t.get("name"), t.get("value"))
                                  for t in terms if t.get("type") == "Entitlement"])
                ent_cons.append((c.get("name"), sides[0], sides[1]))
    return role_cons, ent_cons


# ---- tests -----------------------------------------------------------------------------------------

def test_deterministic_byte_identical(out, tmp_path):
    again = tmp_path / "again"
    run_gen(again, "--format", "both", "--jobs", "1")  # different worker count, same bytes
    assert tree_hashes(out) == tree_hashes(again)


def test_other_seed_differs(out, tmp_path):
    other = tmp_path / "other"
    subprocess.run([sys.executable, str(GEN), "--out", str(other), "--identities", str(N), "--allow-small",
                    "--constraints", str(P), "--requests", str(K), "--chunk-size", str(CHUNK),
                    "--seed", str(SEED + 1)], check=True, capture_output=True)
    a = (out / "xml" / "identities-00000.xml").read_bytes()
    b = (other / "xml" / "identities-00000.xml").read_bytes()
    assert a != b


def test_xml_well_formed(out):
    files = sorted(out.rglob("*.xml"))
    assert len(files) == 3 + (N + CHUNK - 1) // CHUNK + 3  # xml/ (3 + chunks) and scim/ (3 copies)
    for f in files:
        root = ET.parse(f).getroot()
        assert root.tag == "sailpoint"


def test_manifest_counts_exact(out):
    m = json.loads((out / "manifest.json").read_text())
    c = m["counts"]
    assert m["seed"] == SEED
    assert c["identities"] == N and c["applications"] == 20 and c["entitlements"] == 5000
    assert c["roles"] == 2000 and c["business_roles"] == 500 and c["it_roles"] == 1500
    assert c["constraints"] == P and c["role_constraints"] == 35 and c["entitlement_constraints"] == 15
    metas = [json.loads(x) for x in (out / "requests.meta.jsonl").read_text().splitlines()]
    assert c["requests"] == K
    # 25% targeted, less any chunk that has too few identities half-holding a constraint (tiny sizes only)
    assert c["requests_targeted"] == sum(mt["targeted"] for mt in metas)
    assert K // 4 - 2 <= c["requests_targeted"] <= K // 4

    x = out / "xml"
    apps = ET.parse(x / "applications.xml").getroot().findall("Application")
    assert len(apps) == 20
    roles = read_roles(x / "roles.xml")
    assert len(roles) == 2000
    assert sum(r["type"] == "business" for r in roles.values()) == 500
    assert sum(r["type"] == "it" for r in roles.values()) == 1500
    assert c["roles_with_inheritance"] == sum(bool(r["inherits"]) for r in roles.values())
    role_cons, ent_cons = read_policies(x / "policies.xml")
    assert (len(role_cons), len(ent_cons)) == (35, 15)
    assert c["entitlement_constraints_same_application"] == sum(
        len({a for a, _, _ in left + right}) == 1 for _, left, right in ent_cons)
    ents = {(a, t, v) for _, l, r in ent_cons for a, t, v in l + r}
    assert ents  # MatchTerms name real (app, attribute, value) triples
    ids = read_identities(x)
    assert len(ids) == N
    assert c["accounts"] == sum(len(i["links"]) for i in ids.values())
    assert len((out / "requests.jsonl").read_text().splitlines()) == K
    assert len((out / "requests.meta.jsonl").read_text().splitlines()) == K
    for d in ("xml", "scim"):
        total = sum(p.stat().st_size for p in (out / d).iterdir())
        assert m["bytes"][d]["bytes"] == total


def test_roles_well_formed(out):
    roles = read_roles(out / "xml" / "roles.xml")
    order = list(roles)
    for name, r in roles.items():
        if r["type"] == "it":
            assert r["profiles"] and not r["requires"] and not r["permits"]
            assert 1 <= sum(len(v) if o == "CONTAINS_ALL" else 1 for _, fs in r["profiles"] for o, _, v in fs) <= 11
        else:
            assert r["type"] == "business" and not r["profiles"]
            assert 1 <= len(r["requires"]) <= 3
            assert all(roles[x]["type"] == "it" for x in r["requires"] + r["permits"])
        assert len(r["inherits"]) <= 2
        for p in r["inherits"]:  # parents are defined earlier and of the same type
            assert order.index(p) < order.index(name) and roles[p]["type"] == r["type"]
    frac = sum(bool(r["inherits"]) for r in roles.values()) / len(roles)
    assert 0.12 <= frac <= 0.22


def test_detected_roles_consistent_with_accounts(out):
    roles = read_roles(out / "xml" / "roles.xml")
    ids = read_identities(out / "xml")
    n_detected = 0
    for name, ident in ids.items():
        assert sorted(ident["detected"]) == expected_detected(roles, ident), name
        assert all(roles[r]["type"] == "business" for r in ident["assigned"])
        assert 1 <= len(ident["links"]) <= 5
        n_ents = sum(len(v) if isinstance(v, list) else 1
                     for app, ln in ident["links"].items() for k, v in ln["attrs"].items()
                     if k in ENTITLEMENT_ATTRS[app])
        assert 5 <= n_ents <= 80, name
        n_detected += len(ident["detected"])
    assert n_detected > 0


ENTITLEMENT_ATTRS: dict[str, set] = {}  # application name -> entitlement attribute names (from its schema)


@pytest.fixture(scope="module", autouse=True)
def _load_entitlement_attrs(out):
    for app in ET.parse(out / "xml" / "applications.xml").getroot().findall("Application"):
        schema = app.find("Schemas/Schema[@objectType='account']")
        ENTITLEMENT_ATTRS[app.get("name")] = {d.get("name") for d in schema.findall("AttributeDefinition")
                                              if d.get("entitlement") == "true"}


def test_required_roles_usually_detected(out):
    roles = read_roles(out / "xml" / "roles.xml")
    ids = read_identities(out / "xml")
    req = det = 0
    for ident in ids.values():
        d = set(ident["detected"])
        for b in ident["assigned"]:
            for x in roles[b]["requires"]:
                req += 1
                det += x in d
    assert req > 0 and 0.80 <= det / req < 1.0


def test_already_violating_matches_manifest(out):
    """Role SoD over assigned+detected closed upward over inheritance; entitlement SoD over accounts."""
    roles = read_roles(out / "xml" / "roles.xml")
    ids = read_identities(out / "xml")
    role_cons, ent_cons = read_policies(out / "xml" / "policies.xml")

    def up(name, acc):
        if name not in acc:
            acc.add(name)
            for p in roles[name]["inherits"]:
                up(p, acc)
        return acc

    def has_ent(ident, app, attr, value):
        ln = ident["links"].get(app)
        if ln is None:
            return False
        v = ln["attrs"].get(attr)
        return value in v if isinstance(v, list) else v == value

    violating = 0
    for ident in ids.values():
        held = set()
        for r in ident["assigned"] + ident["detected"]:
            up(r, held)
        v = any(held & set(left) and held & set(right) for _, left, right in role_cons)
        v = v or any(any(has_ent(ident, *t) for t in left) and any(has_ent(ident, *t) for t in right)
                     for _, left, right in ent_cons)
        violating += v
    m = json.loads((out / "manifest.json").read_text())
    assert m["stats"]["identities_violating"] == violating


def test_scim_matches_xml(out):
    ids = read_identities(out / "xml")
    users, accounts = {}, {}
    for f in sorted((out / "scim").glob("Users-*.json")):
        page = json.loads(f.read_text())
        assert page["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
        assert page["totalResults"] == N and page["itemsPerPage"] == len(page["Resources"])
        for u in page["Resources"]:
            users[u["userName"]] = u
    n_acc = 0
    for f in sorted((out / "scim").glob("Accounts-*.json")):
        page = json.loads(f.read_text())
        assert page["startIndex"] == n_acc + 1
        n_acc += len(page["Resources"])
        for a in page["Resources"]:
            accounts[a["id"]] = a
    assert len(users) == N and set(users) == set(ids)
    assert n_acc == len(accounts) == sum(len(i["links"]) for i in ids.values())
    ext = "urn:ietf:params:scim:schemas:sailpoint:1.0:User"
    for name, ident in ids.items():
        u = users[name]
        assert u["id"] == ident["id"]
        sp = u[ext]
        assigned = [r["display"] for r in sp["roles"] if r["acquired"] == "Assigned"]
        detected = [r["display"] for r in sp["roles"] if r["acquired"] == "Detected"]
        assert all(r["value"] == ("assignedRoles" if r["acquired"] == "Assigned" else "detectedRoles")
                   for r in sp["roles"])
        assert assigned == ident["assigned"] and detected == ident["detected"]
        for acc in sp["accounts"]:
            a = accounts[acc["value"]]
            app = a["application"]["displayName"]
            link = ident["links"][app]
            assert a["identity"]["value"] == u["id"] and a["identity"]["userName"] == name
            assert a["nativeIdentity"] == link["native"] and a["id"] == link["id"]
            schema = f"urn:ietf:params:scim:schemas:sailpoint:1.0:Application:Schema:{app}:account"
            assert schema in a["schemas"] and a[schema] == link["attrs"]
        xml_ents = sorted((app, k, v) for app, ln in ident["links"].items() for k, vs in ln["attrs"].items()
                          if k in ENTITLEMENT_ATTRS[app] for v in (vs if isinstance(vs, list) else [vs]))
        scim_ents = sorted((e["application"], e["value"], e["display"]) for e in sp["entitlements"])
        assert xml_ents == scim_ents
        assert all(e["type"] == "Entitlement" for e in sp["entitlements"])


def test_requests_well_formed(out):
    ids = read_identities(out / "xml")
    roles = read_roles(out / "xml" / "roles.xml")
    apps = {a.get("name") for a in ET.parse(out / "xml" / "applications.xml").getroot().findall("Application")}
    metas = [json.loads(line) for line in (out / "requests.meta.jsonl").read_text().splitlines()]
    role_cons, ent_cons = read_policies(out / "xml" / "policies.xml")
    cons_names = {c[0] for c in role_cons + ent_cons}
    for line, meta in zip((out / "requests.jsonl").read_text().splitlines(), metas):
        body = json.loads(line)
        assert set(body) == {"identity", "plan"} and body["identity"] == meta["identity"]
        assert body["identity"] in ids
        assert body["plan"]["type"] == "application/sailpoint.object.ProvisioningPlan+json"
        plan = json.loads(body["plan"]["value"])
        assert plan["identity"] == body["identity"]
        n_items = 0
        for acc in plan["accounts"]:
            assert set(acc) == {"application", "instance", "nativeIdentity", "op", "attributes"}
            assert acc["instance"] is None and acc["attributes"]
            if acc["application"] == "IIQ":
                assert acc["op"] == "Modify"
                for at in acc["attributes"]:
                    assert at["name"] == "assignedRoles" and at["op"] == "Add"
                    vals = at["value"] if isinstance(at["value"], list) else [at["value"]]
                    assert all(v in roles for v in vals)
                    n_items += len(vals)
            else:
                assert acc["application"] in apps
                link = ids[body["identity"]]["links"].get(acc["application"])
                if link is not None:
                    assert acc["op"] == "Modify" and acc["nativeIdentity"] == link["native"]
                else:
                    assert acc["op"] == "Create"
                for at in acc["attributes"]:
                    assert at["op"] == "Add" and at["name"] in ENTITLEMENT_ATTRS[acc["application"]]
                    n_items += 1
        assert 1 <= n_items
        assert (meta["constraint"] in cons_names) if meta["targeted"] else meta["constraint"] is None
