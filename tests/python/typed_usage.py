"""A typed use of the whole public API; tests/python/test_typing.py runs `mypy --strict` on it.
Not collected by pytest (no test_ prefix); it also runs as a script: python3 typed_usage.py."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import preflight
from preflight import Engine, Filter, FilterNode, PreflightError, SharedEngine

ROOT = Path(__file__).resolve().parents[2]


def violations(engine: Engine, request: dict[str, Any]) -> list[str]:
    response: dict[str, Any] = engine.check(request)
    return [str(v["constraintName"]) for v in response.get("violations", [])]


def walk(node: FilterNode, depth: int = 0) -> list[str]:
    line = f"{'  ' * depth}{node.kind} {node.op or ''} {node.path or ''} {node.value!r}"
    return [line] + [x for c in node.children for x in walk(c, depth + 1)]


def location_text(e: PreflightError) -> str:
    loc: preflight.Location = e.location
    line: Optional[int] = loc["line"]
    pointer: Optional[str] = loc["pointer"]
    return f"{e.scim_type}: {e.detail} (line {line}, pointer {pointer})"


def main() -> int:
    engine: Engine = Engine.load(ROOT / "examples" / "demo-snapshot", strict=False)
    request: dict[str, Any] = json.loads((ROOT / "examples" / "request.json").read_text())
    found: list[str] = violations(engine, request)
    text: str = engine.check_json(request, explain=True, indent=2)
    keyword: dict[str, Any] = engine.check(
        identity="Ryan.Russell", plan=request["plan"]["value"], plan_type="map", policies=["SOD Policy"]
    )
    batch: list[Any] = engine.check_batch([request, json.dumps(request)], return_exceptions=True)
    stats: dict[str, Any] = engine.stats()
    diagnostics: list[dict[str, Any]] = engine.diagnostics()

    shared = SharedEngine(engine)
    shared.swap(Engine.load([ROOT / "examples" / "demo-snapshot"]))
    current: Engine = shared.get()
    assert current.check(request) == shared.check(request)

    plan: dict[str, Any] = preflight.decode_plan(request["plan"]["value"], "map")
    xml: str = preflight.encode_plan(plan, "xml")
    back: str = preflight.convert_plan(xml, to="json", from_="xml", indent=2)
    form: Optional[str] = preflight.detect_plan_format(xml)
    report: dict[str, Any] = preflight.compile_plan(engine, "Ryan.Russell", plan)

    f: Filter = preflight.parse_filter('userName sw "R" and not (title pr)')
    lines: list[str] = walk(f.root)
    sexpr: str = f.sexpr
    matched: bool = preflight.evaluate_filter(f, {"userName": "Ryan"})
    page: dict[str, Any] = engine.query(
        "Users", f, attributes=["userName"], excluded_attributes=None, sort_by="userName",
        sort_order="descending", start_index=1, count=10,
    )
    try:
        preflight.parse_filter("userName eq")
    except preflight.InvalidFilter as e:
        print(location_text(e))
    try:
        engine.check({"identity": "x"})
    except (preflight.InvalidValue, preflight.InvalidSyntax, preflight.TooMany, preflight.NotFound) as e:
        print(location_text(e))
    version: str = preflight.__version__
    print(found, len(text), keyword["identity"], len(batch), stats["counts"], diagnostics, back[:1], form,
          report["expansions"], lines, sexpr, matched, page["totalResults"], version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
