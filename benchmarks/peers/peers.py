"""The peers: the same SoD constraints, translated once into each tool's own language.

Every peer answers one request from its projection (model.Check: the identity before and after the
plan, and what the plan changed) with the names of the constraints newly violated: violated after the
plan, and either not violated before or naming a changed item (model.Check says why). What a call
does, and so what is timed, is the peer's whole evaluation, including turning the projection into the
peer's input (Cedar entities, the Rego input document, casbin's request).

- pyindex: a dict from each role and entitlement to the constraints naming it (and the side), the
  index a Python user would write by hand; only the constraints the held items name are looked at.
- cedar (cedarpy): one `forbid` policy per constraint (`containsAny` on the sides, for the states
  after and before the plan and for the changed items) and a `permit`; the policy set is parsed once
  (PolicySet); one `is_authorized` call per request, the projection as the principal's Set attributes;
  the newly violated constraints are the deny reasons (their `@id`).
- rego (regopy, rego-cpp): one module whose `new` rule is the set of newly violated constraint names,
  over the constraints as `data` with an index from each item to the constraints naming it (without
  it, evaluating all 1,000 constraints per request takes about 6x longer); compiled once into a
  bundle, then one `set_input` and one bundle query per request.
- casbin: an ABAC model with one policy line per constraint (name, kind, left, right); the matcher is
  the rule in casbin's expression language over a registered set test (`holds_any`: casbin has no
  sets). casbin's effectors stop at the first matching line and report one rule, so listing every
  violated constraint takes an effector that never stops and a last matcher term (`note`) that
  notes the line that matched; one `enforce` per request.
"""
from __future__ import annotations

import json
from typing import Callable, Protocol

from model import Check, Policies, State

SIDE_SEP = "\x1e"  # joins the items of one side into casbin's one policy field (never parsed by casbin)


class PyIndex:
    name = "Python rule index"

    def __init__(self, pol: Policies):
        self.index: dict[str, dict[str, list[tuple[str, int]]]] = {"role": {}, "entitlement": {}}
        for c in pol.constraints:
            for bit, side in ((1, c.left), (2, c.right)):
                for x in side:
                    self.index[c.kind].setdefault(x, []).append((c.name, bit))
        self.by_role, self.by_ent = self.index["role"], self.index["entitlement"]

    def _masks(self, st: State) -> dict[str, int]:
        mask: dict[str, int] = {}
        get = mask.get
        for index, held in ((self.by_role, st.roles), (self.by_ent, st.ents)):
            for x in held:
                hits = index.get(x)
                if hits:
                    for c, bit in hits:
                        mask[c] = get(c, 0) | bit
        return mask

    def new_violations(self, check: Check) -> set[str]:
        post = [c for c, m in self._masks(check.post).items() if m == 3]
        if not post:
            return set()
        pre = self._masks(check.pre)
        changed = self._masks(check.changed)
        return {c for c in post if pre.get(c) != 3 or c in changed}


def _cedar_set(items) -> str:
    return "[" + ", ".join(json.dumps(x) for x in items) + "]"


class Cedar:
    name = "Cedar (cedarpy)"

    def __init__(self, pol: Policies):
        import cedarpy
        self.cedarpy = cedarpy
        text = ["permit(principal, action, resource);"]
        for c in pol.constraints:
            attr = "roles" if c.kind == "role" else "ents"
            left, right = _cedar_set(c.left), _cedar_set(c.right)

            def violated(state: str) -> str:
                return f"principal.{state}_{attr}.containsAny({left}) && principal.{state}_{attr}.containsAny({right})"
            text.append(f"@id({json.dumps(c.name)})\nforbid(principal, action, resource) when {{\n"
                        f"  {violated('post')} &&\n  (!({violated('pre')}) ||\n"
                        f"   principal.changed_{attr}.containsAny({_cedar_set(c.left + c.right)}))\n}};")
        self.policy_text = "\n".join(text)
        self.policies = cedarpy.PolicySet.from_str(self.policy_text)
        self.request = {"principal": {"type": "User", "id": "u"}, "action": {"type": "Action", "id": "check"},
                        "resource": {"type": "Plan", "id": "plan"}, "context": {}}

    def new_violations(self, check: Check) -> set[str]:
        attrs = {}
        for side, st in (("pre", check.pre), ("post", check.post), ("changed", check.changed)):
            attrs[side + "_roles"] = list(st.roles)
            attrs[side + "_ents"] = list(st.ents)
        entities = [{"uid": {"type": "User", "id": "u"}, "parents": [], "attrs": attrs}]
        result = self.cedarpy.is_authorized(self.request, self.policies, entities)
        if result.diagnostics.errors:
            raise RuntimeError(f"cedar: {result.diagnostics.errors}")
        if result.allowed:  # the permit was the reason: no forbid applied
            return set()
        names = result.diagnostics.id_annotations_by_reason
        return {names[r] for r in result.diagnostics.reasons}


REGO_MODULE = """package sod

import rego.v1

# The constraints naming an item held after the plan (data.index: kind -> item -> constraint names),
# so that only those are evaluated, as OPA's guidance on large data sets suggests.
candidates contains name if {
	some kind, held in input.post
	some x, _ in held
	some name in data.index[kind][x]
}

violated(c, st) if {
	held := st[c.kind]
	some x in c.left
	held[x]
	some y in c.right
	held[y]
}

new contains name if {
	some name in candidates
	c := data.constraints[name]
	violated(c, input.post)
	not violated(c, input.pre)
}

new contains name if {
	some name in candidates
	c := data.constraints[name]
	violated(c, input.post)
	some x in array.concat(c.left, c.right)
	input.changed[c.kind][x]
}
"""


class Rego:
    name = "OPA Rego (regopy)"
    # regopy 1.5.2 grows about 12 MB a query here (none without input): in a process that loaded
    # another C++ extension first (preflight, numpy), not when it is loaded first, which in turn
    # triples Preflight's peak memory at load. run.py times Preflight before any peer is imported,
    # so it is not changed; Rego is timed on at most this many requests.
    max_sample = 150

    def __init__(self, pol: Policies):
        import regopy
        self.regopy = regopy
        self.rego = regopy.Interpreter()
        self.rego.add_module("sod.rego", REGO_MODULE)
        index: dict[str, dict[str, list[str]]] = {"role": {}, "entitlement": {}}
        for c in pol.constraints:
            for x in dict.fromkeys(c.left + c.right):
                index[c.kind].setdefault(x, []).append(c.name)
        self.rego.add_data({"index": index, "constraints": {
            c.name: {"kind": c.kind, "left": list(c.left), "right": list(c.right)} for c in pol.constraints}})
        self.bundle = self.rego.build("x = data.sod.new")
        if not self.bundle.ok():
            raise RuntimeError("rego: the module did not compile")

    @staticmethod
    def _doc(st: State) -> dict:
        return {"role": dict.fromkeys(st.roles, True), "entitlement": dict.fromkeys(st.ents, True)}

    def new_violations(self, check: Check) -> set[str]:
        self.rego.set_input(self.regopy.Input({"pre": self._doc(check.pre), "post": self._doc(check.post),
                                               "changed": self._doc(check.changed)}))
        out = self.rego.query_bundle(self.bundle)
        if not out.ok():
            raise RuntimeError(f"rego: {out}")
        return set(json.loads(out.binding("x").json()))


CASBIN_MODEL = """
[request_definition]
r = pre, post, changed

[policy_definition]
p = name, kind, left, right

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = holds_any(r.post, p.kind, p.left) && holds_any(r.post, p.kind, p.right) && \
(!(holds_any(r.pre, p.kind, p.left) && holds_any(r.pre, p.kind, p.right)) || \
holds_any(r.changed, p.kind, p.left) || holds_any(r.changed, p.kind, p.right)) && note(p.name)
"""


class Casbin:
    name = "casbin"

    def __init__(self, pol: Policies):
        import casbin
        from casbin.effect import Effector

        class EveryLine(Effector):
            """Never stops early, so every policy line is evaluated."""
            def intermediate_effect(self, effects):
                return Effector.INDETERMINATE

            def final_effect(self, effects):
                return Effector.ALLOW if Effector.ALLOW in effects else Effector.DENY

        model = casbin.model.Model()
        model.load_model_from_text(CASBIN_MODEL)
        self.enforcer = casbin.Enforcer(model)
        self.enforcer.set_effector(EveryLine())
        sides: dict[str, tuple[str, ...]] = {}
        rules = []
        for c in pol.constraints:
            left, right = SIDE_SEP.join(c.left), SIDE_SEP.join(c.right)
            sides[left], sides[right] = c.left, c.right
            rules.append([c.name, c.kind, left, right])
        self.enforcer.add_policies(rules)
        self.hits: list[str] = []
        self.enforcer.add_function("holds_any", self._holds_any(sides))
        self.enforcer.add_function("note", self._note)

    @staticmethod
    def _holds_any(sides: dict[str, tuple[str, ...]]) -> Callable[[State, str, str], bool]:
        def holds_any(st: State, kind: str, side: str) -> bool:
            held = st.roles if kind == "role" else st.ents
            return any(x in held for x in sides[side])
        return holds_any

    def _note(self, name: str) -> bool:
        self.hits.append(name)
        return True

    def new_violations(self, check: Check) -> set[str]:
        self.hits.clear()
        self.enforcer.enforce(check.pre, check.post, check.changed)
        return set(self.hits)


class Peer(Protocol):
    name: str

    def __init__(self, pol: Policies) -> None: ...
    def new_violations(self, check: Check) -> set[str]: ...


PEERS: dict[str, type[Peer]] = {"pyindex": PyIndex, "cedar": Cedar, "rego": Rego, "casbin": Casbin}
