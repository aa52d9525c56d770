"""Preflight: IdentityIQ's CheckedPolicyViolations, answered in-process.

    import preflight
    engine = preflight.Engine.load("examples/demo-snapshot")
    response = engine.check(identity="Ryan.Russell", plan=plan_text)

An :class:`Engine` is immutable and thread-safe; every call into the engine releases
the GIL, so Python threads check in parallel. To replace the snapshot while other
threads check, keep it in a :class:`SharedEngine` and :meth:`SharedEngine.swap`.

Plans are dicts in the toMap JSON shape (``application/sailpoint.object.ProvisioningPlan+json``)
or text in any of the three forms (XML, JSON, the ``{key=value}`` map form).
Errors are :class:`PreflightError` subclasses carrying ``scim_type``, ``detail`` and ``location``.

Every input has a budget with a safe default; functions that read untrusted text take
``limits={"max_nesting_depth": 16, ...}`` to change them (names: max_input_bytes,
max_nesting_depth, max_filter_length, max_filter_depth, max_batch_requests,
max_plan_values, max_plan_requests). Exceeding one raises :class:`TooMany`. One more,
max_query_cache_bytes (1 GiB), bounds the query documents kept per resource type: past it,
each query makes the documents it reads again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping, Optional, Sequence, Union

from . import _args, _preflight
from ._rows import COLUMNS as ROW_COLUMNS
from ._rows import Rows
from ._errors import (
    InvalidFilter,
    InvalidPath,
    InvalidPlan,
    InvalidSyntax,
    InvalidType,
    InvalidValue,
    Location,
    NoSuchResource,
    NotFound,
    PreflightError,
    TooMany,
)

__version__: str = _preflight.__version__

# Shown and pickled as preflight.InvalidValue etc., where users import them from.
for _cls in (PreflightError, InvalidValue, InvalidType, InvalidPlan, InvalidFilter, InvalidPath, InvalidSyntax,
             TooMany, NotFound, NoSuchResource):
    _cls.__module__ = __name__

#: A path, or several: files or directories of SCIM JSON and IdentityIQ XML exports.
PathLike = Union[str, "os.PathLike[str]"]
Paths = Union[PathLike, Sequence[PathLike]]
#: A plan: text in one of the three forms, or a dict in the toMap JSON shape.
Plan = Union[str, Mapping[str, Any]]
#: ``"xml"``, ``"json"``, ``"map"``, or a media type as a request's ``plan.type`` carries it.
PlanType = str
#: A CheckedPolicyViolations request body: a dict or its JSON text.
Request = Union[str, bytes, Mapping[str, Any]]
SortOrder = Literal["ascending", "descending"]
#: Budgets by name, each at least 1: ``{"max_nesting_depth": 16}``. Unnamed ones keep their defaults.
Limits = Mapping[str, int]


def _plan_text(plan: object, plan_type: object) -> tuple[str, Optional[str]]:
    """A plan as text and the type to read it with: dicts travel as toMap JSON."""
    kind = _args.optional_text(plan_type, "plan_type")
    if isinstance(plan, Mapping):
        return _args.json_text(plan, "plan"), "json" if kind is None else kind
    return _args.text(plan, "plan"), kind


def _object(text: str) -> Any:
    """A JSON document from the native layer (the facade's one serializer)."""
    return json.loads(text)


class _Checks:
    """The checking, query and inspection API shared by Engine and SharedEngine."""

    __slots__ = ()

    def _native(self) -> _preflight.Engine:
        raise NotImplementedError

    def scan(
        self,
        *,
        filter: Optional[str] = None,
        policies: Optional[Iterable[str]] = None,
        start: int = 0,
        stop: Optional[int] = None,
        threads: int = 0,
    ) -> Rows:
        """Every current violation of the active (or named) policies, one dict per violation
        (identity, policyName, policyType, constraintName, description, leftBundles,
        rightBundles, entitlements), in identity order, for the identities the SCIM
        ``filter`` selects (``start``/``stop`` slice them; see :meth:`count_identities`).
        Runs on ``threads`` cores (0: all) with the GIL released. ``.to_frame()`` makes a
        pandas DataFrame."""
        first, last = _slice(start, stop)
        return Rows(_preflight.scan_stream(self._native(), _args.optional_text(filter, "filter") or "",
                                           _args.policy_names(policies), first, last, _threads(threads)))

    def impact(
        self,
        changes: Optional[Paths] = None,
        *,
        activate: Optional[Iterable[str]] = None,
        plan: Optional[Plan] = None,
        plan_type: Optional[PlanType] = None,
        filter: Optional[str] = None,
        policies: Optional[Iterable[str]] = None,
        start: int = 0,
        stop: Optional[int] = None,
        threads: int = 0,
        after: Optional[Engine] = None,
    ) -> Rows:
        """What a change does to the population. With ``changes`` (Role / Policy / ...
        files replacing objects by name) and ``activate`` (policy names): per identity, the
        violations and detected roles gained or lost (``change``: "gained" / "lost"; role
        rows carry ``role``). ``after=`` an engine from :meth:`with_changes` instead, to load
        the changed snapshot once for many calls. With ``plan``: that plan checked for every
        identity the ``filter`` selects, its new violations (``change``: "new"). Nothing
        changed: no row."""
        first, last = _slice(start, stop)
        if after is not None:
            if changes is not None or activate is not None or plan is not None:
                message = "give either after= or changes=/activate=/plan=, not both"
                raise InvalidType(message, detail=message)
            if not isinstance(after, Engine):
                message = f"after must be an Engine, not {type(after).__name__}"
                raise InvalidType(message, detail=message)
            return Rows(_preflight.impact_stream(self._native(), [], [], "", "",
                                                 _args.optional_text(filter, "filter") or "",
                                                 _args.policy_names(policies), first, last, _threads(threads),
                                                 after._native()))
        text, kind = ("", None) if plan is None else _plan_text(plan, plan_type)
        names = [] if changes is None else _args.paths(changes)
        active = _args.policy_names(activate) or []
        return Rows(_preflight.impact_stream(self._native(), names, active, text, kind or "",
                                             _args.optional_text(filter, "filter") or "",
                                             _args.policy_names(policies), first, last, _threads(threads)))

    def with_changes(self, changes: Optional[Paths] = None, *, activate: Optional[Iterable[str]] = None) -> Engine:
        """The snapshot with ``changes`` applied (files replacing objects by name, or added) and
        the ``activate`` policies made active, read again from this engine's sources: pass it
        as :meth:`impact`'s ``after=``."""
        names = [] if changes is None else _args.paths(changes)
        return Engine(self._native().with_changes(names, _args.policy_names(activate) or []))

    def count_identities(self, filter: Optional[str] = None) -> int:
        """How many identities the SCIM ``filter`` selects (all without one): the range
        :meth:`scan`'s ``start``/``stop`` slice."""
        return self._native().count_identities(_args.optional_text(filter, "filter") or "")

    def check_json(
        self,
        request: Optional[Request] = None,
        *,
        identity: Optional[str] = None,
        plan: Optional[Plan] = None,
        plan_type: Optional[PlanType] = None,
        policies: Optional[Iterable[str]] = None,
        explain: bool = False,
        indent: int = 0,
    ) -> str:
        """Like :meth:`check`, but returns the response resource as JSON text."""
        if (request is not None and identity is None and plan is None and plan_type is None and policies is None
                and (explain is False or explain is True) and type(indent) is int and 0 <= indent <= 16):
            return self._native().check_json(request, explain, indent)  # the common call, argument checks inline
        return self._check(request, identity, plan, plan_type, policies, explain, indent, True)  # type: ignore[no-any-return]

    def check(
        self,
        request: Optional[Request] = None,
        *,
        identity: Optional[str] = None,
        plan: Optional[Plan] = None,
        plan_type: Optional[PlanType] = None,
        policies: Optional[Iterable[str]] = None,
        explain: bool = False,
    ) -> dict[str, Any]:
        """Checks one request: the CheckedPolicyViolation response resource as a dict.

        Either the request body (a dict or JSON text: ``{"identity", "plan": {"value",
        "type"}, "policies"}``) or the keyword form: ``identity``, ``plan`` (text or a
        toMap dict), ``plan_type`` (``"xml"``, ``"json"``, ``"map"`` or a media type;
        detected from the text when omitted) and ``policies`` (names or ids; ``None``
        means every active policy). ``explain`` adds per-violation explanations.
        Every failure inside the request raises :class:`InvalidValue` (:class:`InvalidPlan`
        for the plan), as IdentityIQ answers it; a budget raises :class:`TooMany`.
        """
        if (request is not None and identity is None and plan is None and plan_type is None and policies is None
                and (explain is False or explain is True)):
            return self._native().check(request, explain)  # the common call, argument checks inline
        return self._check(request, identity, plan, plan_type, policies, explain, 0, False)  # type: ignore[no-any-return]

    def _check(
        self,
        request: object,
        identity: object,
        plan: object,
        plan_type: object,
        policies: object,
        explain: object,
        indent: object,
        text: bool,
    ) -> Any:
        # A dict body is read natively (no JSON text in between); the answer is a dict built
        # from the response, or its JSON text.
        native = self._native()
        explain = _args.flag(explain, "explain")
        width = _args.indent(indent)
        if request is not None:
            if identity is not None or plan is not None or plan_type is not None or policies is not None:
                message = "give either a request body or identity=/plan=/plan_type=/policies=, not both"
                raise InvalidType(message, detail=message)
            if text:
                return native.check_json(request, explain, width)
            return native.check(request, explain)
        if identity is None or plan is None:
            message = "check needs a request body, or identity= and plan="
            raise InvalidType(message, detail=message)
        plan_text, kind = _plan_text(plan, plan_type)
        return native.check_fields(
            _args.text(identity, "identity"), plan_text, kind, _args.policy_names(policies), explain, width, text
        )

    def check_batch(
        self,
        requests: Iterable[Request],
        *,
        explain: bool = False,
        return_exceptions: bool = False,
    ) -> list[Any]:
        """Checks many request bodies in one native call, in order.

        A failed request raises its error (the first one, after all were checked), or,
        with ``return_exceptions=True``, leaves its exception in its place in the list.
        """
        if isinstance(requests, (str, bytes, Mapping)) or not isinstance(requests, Iterable):
            message = f"requests must be a list of request bodies, not {type(requests).__name__}"
            raise InvalidType(message, detail=message)
        items = requests if isinstance(requests, (list, tuple)) else list(requests)
        if explain is not True and explain is not False:
            for i, r in enumerate(items):  # a bad request is reported before a bad flag
                _args.json_text(r, f"requests[{i}]")
            _args.flag(explain, "explain")
        # Each request is read natively (a dict without JSON text in between), all are checked
        # with the GIL released once, and the answers come back as dicts.
        out: list[Any] = self._native().check_batch(items, explain)
        if not _args.flag(return_exceptions, "return_exceptions"):
            for r in out:
                if isinstance(r, PreflightError):
                    raise r
        return out

    def compile(self, identity: str, plan: Plan, plan_type: Optional[PlanType] = None) -> dict[str, Any]:
        """The plan compiled for one identity (see :func:`compile_plan`)."""
        text, kind = _plan_text(plan, plan_type)
        result: dict[str, Any] = _object(self._native().compile(_args.text(identity, "identity"), text, kind, 0))
        return result

    def query(
        self,
        resource_type: str,
        filter: Optional[Union[str, Filter]] = None,
        attributes: Union[None, str, Iterable[str]] = None,
        excluded_attributes: Union[None, str, Iterable[str]] = None,
        sort_by: Optional[str] = None,
        sort_order: Optional[SortOrder] = None,
        start_index: Optional[int] = None,
        count: Optional[int] = None,
    ) -> dict[str, Any]:
        """A SCIM query over the snapshot: the ListResponse as a dict.

        ``resource_type`` is Users, Accounts, Entitlements, Roles or Applications;
        ``attributes`` and ``excluded_attributes`` take a list or the comma-separated
        wire form; ``start_index`` is 1-based.
        """
        text = filter.text if isinstance(filter, Filter) else _args.optional_text(filter, "filter")
        split = _preflight.split_attribute_list
        result: dict[str, Any] = _object(
            self._native().query(
                _args.text(resource_type, "resource_type"),
                text,
                _args.names(attributes, "attributes", split),
                _args.names(excluded_attributes, "excluded_attributes", split),
                _args.optional_text(sort_by, "sort_by"),
                _args.optional_text(sort_order, "sort_order"),
                _args.optional_integer(start_index, "start_index"),
                _args.optional_integer(count, "count"),
            )
        )
        return result

    def resource(
        self,
        resource_type: str,
        id: str,
        attributes: Union[None, str, Iterable[str]] = None,
        excluded_attributes: Union[None, str, Iterable[str]] = None,
    ) -> dict[str, Any]:
        """One SCIM resource by id (``GET /Users/{id}``); :class:`NoSuchResource` when absent."""
        split = _preflight.split_attribute_list
        result: dict[str, Any] = _object(
            self._native().resource(
                _args.text(resource_type, "resource_type"),
                _args.text(id, "id"),
                _args.names(attributes, "attributes", split),
                _args.names(excluded_attributes, "excluded_attributes", split),
            )
        )
        return result

    def stats(self) -> dict[str, Any]:
        """Counts, memory, load time and diagnostics: the JSON of ``preflight snapshot stats``."""
        result: dict[str, Any] = _object(self._native().stats())
        return result

    def diagnostics(self) -> list[dict[str, Any]]:
        """Problems found while loading: severity, code (a SCIM type), object, location, message."""
        result: list[dict[str, Any]] = _object(self._native().diagnostics())
        return result

    def write_image(self, path: Union[str, os.PathLike[str]]) -> dict[str, Any]:
        """Writes this snapshot as a compiled image (``preflight snapshot compile``): one file
        that :meth:`Engine.load` maps in milliseconds instead of parsing the exports.

        The file appears whole or not at all (written aside, then renamed into place).
        Back: what the image holds (``image``, ``bytes``, ``formatVersion``, ``sourceHash``,
        ``identities``, ``policies``, ``loadErrors``, ``partial``).
        """
        target = os.fspath(path) if isinstance(path, os.PathLike) else path
        result: dict[str, Any] = _object(self._native().write_image(_args.text(target, "path")))
        return result

    @property
    def info(self) -> dict[str, Any]:
        """What this snapshot is: source_hash, identities, policies, load_errors, partial, load_ms."""
        result: dict[str, Any] = self._native().info()
        return result

    def _bench_check(self, request: Request, n: int) -> float:
        """Seconds taken by ``n`` checks of one request in a C++ loop (GIL released)."""
        return self._native().bench_check(_args.json_text(request, "request"), _args.integer(n, "n", 0))


def _allow_partial(strict: Optional[bool], allow_partial: bool) -> bool:
    # ``strict=False`` (the old opt-out) means what ``allow_partial=True`` says now.
    partial = _args.flag(allow_partial, "allow_partial")
    if strict is not None and not _args.flag(strict, "strict"):
        partial = True
    return partial


def _slice(start: object, stop: object) -> tuple[int, Optional[int]]:
    first = _args.integer(start, "start", 0)
    last = None if stop is None else _args.integer(stop, "stop", 0)
    return first, last


def _threads(threads: object) -> int:
    return _args.integer(threads, "threads", 0, 1 << 16)


class Engine(_Checks):
    """An immutable, thread-safe snapshot with its indexes. Build one with :meth:`load`."""

    __slots__ = ("_handle",)

    def __init__(self, handle: _preflight.Engine) -> None:
        self._handle = handle

    @classmethod
    def load(
        cls,
        paths: Paths,
        strict: Optional[bool] = None,
        *,
        allow_partial: bool = False,
        limits: Optional[Limits] = None,
        verify: str = "full",
    ) -> Engine:
        """Loads a snapshot: a directory, a file, or a list of them (kind detected from content),
        or one compiled image (:meth:`write_image`, ``preflight snapshot compile``), mapped.

        ``verify`` says how an image is verified: ``"full"`` (the default) checks every byte
        before this returns; ``"lazy"`` checks the header and the small sections, then every
        record a call reads as it reads it, and the rest on a background thread: a corruption
        found there makes every later call raise :class:`InvalidValue` naming it
        (:meth:`image_verification` tells ``"verifying"``, ``"verified"`` or ``"failed"``).

        Fail-closed: a snapshot that loads with any error, or holds no policy or no
        identity, raises :class:`InvalidValue` naming the first problems. With
        ``allow_partial=True`` what did load is used, :meth:`diagnostics` lists the errors,
        and every check response carries a "partial snapshot" warning. (``strict`` is
        kept for old callers: ``strict=False`` means ``allow_partial=True``.) ``limits``
        sets the budgets this engine applies to the requests, plans and filters it is
        given (and the nesting depth of the snapshot files).
        """
        return cls(_preflight.Engine.load(_args.paths(paths), _allow_partial(strict, allow_partial),
                                          _args.limits(limits), verify))

    def image_verification(self) -> str:
        """``"full"`` (verified at open, or loaded from exports), or for an image loaded with
        ``verify="lazy"`` its columns' background verification: ``"verifying"``, ``"verified"``
        or ``"failed"``."""
        return self._handle.image_verification()

    def _native(self) -> _preflight.Engine:
        return self._handle

    def __repr__(self) -> str:
        counts = self.stats()["counts"]
        return f"<preflight.Engine identities={counts['identities']} policies={counts['policies']}>"


class SharedEngine(_Checks):
    """Holds the current :class:`Engine`; :meth:`swap` replaces it while other threads check.

    Each call takes a reference-counted copy of the current engine, so a swap never
    blocks or disturbs a check in progress: every check answers from one snapshot.
    """

    __slots__ = ("_shared",)

    def __init__(self, engine: Engine) -> None:
        if not isinstance(engine, Engine):
            message = f"SharedEngine needs an Engine, not {type(engine).__name__}"
            raise InvalidType(message, detail=message)
        self._shared = _preflight.SharedEngine(engine._native())

    @classmethod
    def load(
        cls,
        paths: Paths,
        strict: Optional[bool] = None,
        *,
        allow_partial: bool = False,
        limits: Optional[Limits] = None,
        verify: str = "full",
    ) -> SharedEngine:
        return cls(Engine.load(paths, strict, allow_partial=allow_partial, limits=limits, verify=verify))

    def get(self) -> Engine:
        """The current engine."""
        return Engine(self._shared.get())

    @property
    def engine(self) -> Engine:
        return self.get()

    def swap(
        self,
        engine: Union[Engine, Paths],
        strict: Optional[bool] = None,
        *,
        allow_partial: bool = False,
        limits: Optional[Limits] = None,
    ) -> None:
        """Makes ``engine`` current; given paths, loads them first (without blocking checks)."""
        if not isinstance(engine, Engine):
            engine = Engine.load(engine, strict, allow_partial=allow_partial, limits=limits)
        self._shared.swap(engine._native())

    def _native(self) -> _preflight.Engine:
        return self._shared.get()

    def __repr__(self) -> str:
        return f"<preflight.SharedEngine current={self.get()!r}>"


# --------------------------------------------------------------------------------------
# Plans


def decode_plan(text: str, format: Optional[PlanType] = None, *, limits: Optional[Limits] = None) -> dict[str, Any]:
    """Decodes a plan (``format``: xml, json, map or a media type; detected when omitted)
    into a dict in the toMap JSON shape. Raises :class:`InvalidPlan` or :class:`TooMany`."""
    result: dict[str, Any] = _object(
        _preflight.convert_plan(
            _args.text(text, "text"), "json", _args.optional_text(format, "format"), 0, _args.limits(limits)
        )
    )
    return result


def encode_plan(plan: Mapping[str, Any], format: Literal["xml", "json"] = "json", *, indent: int = 0) -> str:
    """Encodes a toMap-shaped plan dict as IIQ XML or canonical JSON text."""
    if not isinstance(plan, Mapping):
        message = f"plan must be a dict in the toMap JSON shape, not {type(plan).__name__}"
        raise InvalidType(message, detail=message)
    return _preflight.convert_plan(_args.json_text(plan, "plan"), _args.text(format, "format"), "json",
                                   _args.indent(indent))


def convert_plan(
    text: str,
    to: Literal["xml", "json"],
    from_: Optional[PlanType] = None,
    *,
    indent: int = 0,
    limits: Optional[Limits] = None,
) -> str:
    """Lossless conversion between plan forms (``preflight plan convert``)."""
    return _preflight.convert_plan(
        _args.text(text, "text"), _args.text(to, "to"), _args.optional_text(from_, "from_"), _args.indent(indent),
        _args.limits(limits),
    )


def plan_workflow(
    identity: str,
    plan: Plan,
    *,
    workflow: str = "LCM Provisioning",
    plan_type: Optional[PlanType] = None,
    limits: Optional[Limits] = None,
) -> dict[str, Any]:
    """The LaunchedWorkflows request body (``preflight plan workflow``) that launches
    ``workflow`` with ``plan`` for ``identity``: POST it to IdentityIQ's
    ``/scim/v2/LaunchedWorkflows``. The plan travels as IdentityIQ XML text."""
    text, kind = _plan_text(plan, plan_type)
    body: dict[str, Any] = _object(
        _preflight.plan_workflow(
            _args.text(identity, "identity"), text, _args.text(workflow, "workflow"), kind, 0, _args.limits(limits),
        )
    )
    return body


def detect_plan_format(text: str) -> Optional[Literal["xml", "json", "map"]]:
    """The plan's form guessed from its first character, or ``None``."""
    found = _preflight.detect_plan_format(_args.text(text, "text"))
    if found == "xml":
        return "xml"
    if found == "json":
        return "json"
    if found == "map":
        return "map"
    return None


def compile_plan(
    engine: Union[Engine, SharedEngine], identity: str, plan: Plan, plan_type: Optional[PlanType] = None
) -> dict[str, Any]:
    """Compiles a plan for one identity (``preflight plan compile``): ``identity``, the
    compiled ``plan`` (toMap shape, role assignments expanded), ``expansions``, the
    projected ``pre`` and ``post`` states, and ``diagnostics``."""
    if not isinstance(engine, (Engine, SharedEngine)):
        message = f"engine must be an Engine or SharedEngine, not {type(engine).__name__}"
        raise InvalidType(message, detail=message)
    return engine.compile(identity, plan, plan_type)


# --------------------------------------------------------------------------------------
# SCIM filters


FilterKind = Literal["compare", "present", "and", "or", "not", "valuePath"]
LiteralKind = Literal["string", "number", "true", "false", "null"]


def _literal(kind: Optional[str], text: Optional[str]) -> Any:
    if kind == "string":
        return text
    if kind == "number":
        assert text is not None
        try:
            return int(text)
        except ValueError:
            return float(text)
    if kind == "true":
        return True
    if kind == "false":
        return False
    return None


@dataclass(frozen=True)
class FilterNode:
    """One node of a SCIM filter's AST.

    ``kind`` is compare, present, and, or, not or valuePath. Compare nodes have ``op``
    (eq, ne, co, sw, ew, gt, ge, lt, le) and ``value`` (str, int, float, bool or None,
    with ``value_kind`` and the literal ``value_text`` as written); compare, present and
    valuePath nodes have the attribute ``path`` (with its ``uri``, ``name`` and ``sub``
    parts); and/or have two or more ``children``, not and valuePath exactly one.
    """

    kind: FilterKind
    op: Optional[str] = None
    path: Optional[str] = None
    uri: Optional[str] = None
    name: Optional[str] = None
    sub: Optional[str] = None
    value: Any = None
    value_kind: Optional[LiteralKind] = None
    value_text: Optional[str] = None
    children: tuple[FilterNode, ...] = ()
    span: tuple[int, int] = (0, 0)
    sexpr: str = field(default="", compare=False)
    text: str = field(default="", compare=False, repr=False)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> FilterNode:
        return cls(
            kind=d["kind"],
            op=d["op"],
            path=d["path"],
            uri=d["uri"],
            name=d["name"],
            sub=d["sub"],
            value=_literal(d["valueKind"], d["valueText"]),
            value_kind=d["valueKind"],
            value_text=d["valueText"],
            children=tuple(cls._from_native(c) for c in d["children"]),
            span=(int(d["span"][0]), int(d["span"][1])),
            sexpr=d["sexpr"],
            text=d["text"],
        )

    def __str__(self) -> str:
        return self.sexpr


@dataclass(frozen=True)
class Filter:
    """A parsed SCIM filter: the source ``text`` and the AST ``root``."""

    text: str
    root: FilterNode

    @property
    def sexpr(self) -> str:
        """The AST in S-expression notation: ``(and (eq userType "Employee") (pr title))``."""
        return self.root.sexpr

    def evaluate(self, resource: Union[str, bytes, Mapping[str, Any]]) -> bool:
        return evaluate_filter(self, resource)

    def __str__(self) -> str:
        return self.sexpr


def parse_filter(text: str, *, limits: Optional[Limits] = None) -> Filter:
    """Parses a SCIM filter (RFC 7644 3.4.2.2). Raises :class:`InvalidFilter` (with the
    byte offset in ``location``) or :class:`TooMany` (``max_filter_length``, ``max_filter_depth``)."""
    source = _args.text(text, "text")
    return Filter(source, FilterNode._from_native(_object(_preflight.parse_filter(source, _args.limits(limits)))))


def parse_path_sexpr(text: str, *, limits: Optional[Limits] = None) -> str:
    """A SCIM PATCH path as an S-expression: ``(path emails (eq type "work") value)``."""
    return _preflight.path_sexpr(_args.text(text, "text"), _args.limits(limits))


def evaluate_filter(
    filter: Union[str, Filter], resource: Union[str, bytes, Mapping[str, Any]], *, limits: Optional[Limits] = None
) -> bool:
    """Whether one JSON resource (a dict or JSON text) matches the filter."""
    text = filter.text if isinstance(filter, Filter) else _args.text(filter, "filter")
    return _preflight.evaluate_filter(text, _args.json_text(resource, "resource"), _args.limits(limits))


__all__ = [
    "Engine",
    "Rows",
    "ROW_COLUMNS",
    "SharedEngine",
    "Filter",
    "FilterNode",
    "Location",
    "Limits",
    "decode_plan",
    "encode_plan",
    "convert_plan",
    "detect_plan_format",
    "plan_workflow",
    "compile_plan",
    "parse_filter",
    "parse_path_sexpr",
    "evaluate_filter",
    "PreflightError",
    "InvalidValue",
    "InvalidPlan",
    "InvalidType",
    "NoSuchResource",
    "InvalidFilter",
    "InvalidPath",
    "InvalidSyntax",
    "TooMany",
    "NotFound",
    "__version__",
]
