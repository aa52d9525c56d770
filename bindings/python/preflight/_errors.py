"""Preflight's exceptions.

Every error the engine reports carries a stable SCIM ``scimType`` (``scim_type``), the
message without its location prefix (``detail``), and a ``location`` dict with the keys
``file``, ``line``, ``column``, ``offset`` and ``pointer`` (``None`` when unknown).
The native module raises these classes; it maps each SCIM type to one class in one place.
"""

from __future__ import annotations

from typing import Optional, TypedDict


class Location(TypedDict):
    """Where in the input an error is: any part may be ``None``."""

    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    offset: Optional[int]
    pointer: Optional[str]


def _empty_location() -> Location:
    return {"file": None, "line": None, "column": None, "offset": None, "pointer": None}


class PreflightError(Exception):
    """Base class of every error Preflight raises for bad input or a failed call."""

    scim_type: str
    detail: str
    location: Location

    def __init__(
        self,
        message: str,
        *,
        scim_type: str = "invalidValue",
        detail: Optional[str] = None,
        location: Optional[Location] = None,
    ) -> None:
        super().__init__(message)
        self.scim_type = scim_type
        self.detail = message if detail is None else detail
        self.location = _empty_location() if location is None else location

    def __reduce__(self) -> tuple[object, ...]:
        # Keeps scim_type, detail and location across pickling (multiprocessing, caches).
        return (_rebuild, (type(self), str(self), self.scim_type, self.detail, dict(self.location)))

    def scim_error(self) -> dict[str, object]:
        """The SCIM Error resource a server would answer with (RFC 7644 section 3.12)."""
        return {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400",
            "scimType": self.scim_type,
            "detail": str(self),
        }


def _rebuild(cls: type[PreflightError], message: str, scim_type: str, detail: str, location: Location) -> PreflightError:
    return cls(message, scim_type=scim_type, detail=detail, location=location)


class InvalidValue(PreflightError, ValueError):
    """``invalidValue``: well-formed input with a wrong value (IdentityIQ's catch-all)."""


class InvalidType(InvalidValue, TypeError):
    """An argument of the wrong Python type (also a ``TypeError``); ``scim_type`` is invalidValue."""


class NoSuchResource(PreflightError, LookupError):
    """A SCIM resource asked for by id that the snapshot does not hold (HTTP 404)."""

    def scim_error(self) -> dict[str, object]:
        return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": str(self)}


class InvalidPlan(InvalidValue):
    """A ProvisioningPlan that does not decode (``scim_type`` is invalidValue or invalidSyntax)."""


class InvalidFilter(PreflightError, ValueError):
    """``invalidFilter``: SCIM filter syntax, or a comparison the filter cannot make."""


class InvalidPath(InvalidFilter):
    """``invalidPath``: a malformed attribute path (attributes, sortBy, PATCH paths)."""


class InvalidSyntax(PreflightError, ValueError):
    """``invalidSyntax``: text that is not JSON / XML where it must be."""


class TooMany(PreflightError, ValueError):
    """``tooMany``: a budget (size, depth, count) was exceeded; the message names it."""


class NotFound(PreflightError, FileNotFoundError):
    """A snapshot file or directory that does not exist."""


__all__ = [
    "Location",
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
]
