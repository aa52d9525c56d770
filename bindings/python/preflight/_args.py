"""Argument checking for the public API: every bad argument becomes a PreflightError.

The native layer takes ``str``, ``int`` and lists of ``str``; anything else (wrong types,
text that is not valid Unicode, bytes that are not UTF-8, integers out of range) is refused
here, with ``scim_type``, ``detail`` and ``location`` like every other error, before it can
surface as a pybind11 ``TypeError`` or a ``UnicodeError``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping, Optional, Union

from ._errors import InvalidType, InvalidValue, Location

_INT64_MAX = 2**63 - 1


def _location(offset: Optional[int] = None, pointer: Optional[str] = None) -> Location:
    return {"file": None, "line": None, "column": None, "offset": offset, "pointer": pointer}


def _type_name(value: object) -> str:
    return type(value).__name__


def text(value: object, name: str) -> str:
    """``value`` as a str that encodes to UTF-8: str as is, bytes decoded strictly."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            message = f"{name}: not valid UTF-8 at byte {e.start}"
            raise InvalidValue(message, scim_type="invalidValue", detail=message, location=_location(e.start)) from None
    if not isinstance(value, str):
        message = f"{name} must be str or bytes, not {_type_name(value)}"
        raise InvalidType(message, detail=message, location=_location(pointer=name))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        message = f"{name}: not valid Unicode text (a lone surrogate at character {e.start})"
        raise InvalidValue(message, detail=message, location=_location(e.start)) from None
    return value


def optional_text(value: object, name: str) -> Optional[str]:
    return None if value is None else text(value, name)


def flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        message = f"{name} must be True or False, not {_type_name(value)}"
        raise InvalidType(message, detail=message, location=_location(pointer=name))
    return value


def integer(value: object, name: str, low: int = -_INT64_MAX - 1, high: int = _INT64_MAX) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        message = f"{name} must be an int, not {_type_name(value)}"
        raise InvalidType(message, detail=message, location=_location(pointer=name))
    if not low <= value <= high:
        message = f"{name} must be between {low} and {high}, not {value}"
        raise InvalidValue(message, detail=message, location=_location(pointer=name))
    return value


def optional_integer(value: object, name: str) -> Optional[int]:
    return None if value is None else integer(value, name)


def indent(value: object) -> int:
    return integer(value, "indent", 0, 16)


def limits(value: Optional[Mapping[str, int]]) -> Optional[dict[str, int]]:
    """Budget overrides by name, each an int (the engine checks the name and the range)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        message = f"limits must be a dict of budget names to ints, not {_type_name(value)}"
        raise InvalidType(message, detail=message, location=_location(pointer="limits"))
    out: dict[str, int] = {}
    for key, number in value.items():
        key_text = text(key, "limits key")
        out[key_text] = integer(number, f"limits[{key_text!r}]")
    return out


def names(value: object, name: str, split: Any) -> Optional[list[str]]:
    """None, the comma-separated wire form, or an iterable of str."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        return list(split(text(value, name)))
    if not isinstance(value, Iterable):
        message = f"{name} must be a str or a list of str, not {_type_name(value)}"
        raise InvalidType(message, detail=message, location=_location(pointer=name))
    return [text(v, f"{name}[{i}]") for i, v in enumerate(value)]


def policy_names(value: object) -> Optional[list[str]]:
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        return [text(value, "policies")]
    if not isinstance(value, Iterable):
        message = f"policies must be a list of str, not {_type_name(value)}"
        raise InvalidType(message, detail=message, location=_location(pointer="policies"))
    return [text(v, f"policies[{i}]") for i, v in enumerate(value)]


def paths(value: object) -> list[str]:
    if isinstance(value, (str, bytes, os.PathLike)):
        items: Iterable[Any] = [value]
    elif isinstance(value, Iterable):
        items = value
    else:
        message = f"paths must be a path or a list of paths, not {_type_name(value)}"
        raise InvalidType(message, detail=message, location=_location(pointer="paths"))
    out = []
    for i, p in enumerate(items):
        if isinstance(p, os.PathLike):
            p = os.fspath(p)
        out.append(text(p, f"paths[{i}]"))
    return out


def json_text(value: object, name: str) -> str:
    """A JSON document given as text, bytes, or a JSON-serializable dict/list."""
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return text(value, name)
    if not isinstance(value, (Mapping, list, tuple)):
        message = f"{name} must be a dict, str or bytes, not {_type_name(value)}"
        raise InvalidType(message, detail=message, location=_location(pointer=name))
    try:
        return text(json.dumps(value, ensure_ascii=False, allow_nan=False), name)
    except (TypeError, ValueError) as e:
        message = f"{name} is not JSON-serializable: {e}"
        raise InvalidValue(message, detail=message, location=_location(pointer=name)) from None
