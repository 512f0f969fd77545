"""Canonical JSON for ledger bodies (RFC 8785 JSON Canonicalization Scheme).

Object members sorted by the UTF-16 code units of their names, no insignificant
whitespace, strings escaped only where JSON requires (lower-case ``\\u00xx`` for other
control characters), numbers in ECMAScript ``Number.prototype.toString`` form, UTF-8.
The same value always gives the same bytes, so a body's hash is stable everywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from handover.errors import BadInput

JsonValue = Any


def to_jsonable(value: Any, where: str = "details") -> JsonValue:
    """Plain JSON data (dict/list/str/int/float/bool/None) from ``value``.

    Dates become ISO 8601 text, paths text, tuples/sets lists; anything else is
    :class:`BadInput` naming the offending key path.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        out: dict[str, JsonValue] = {}
        for k, v in value.items():
            if type(k) is not str and not isinstance(k, str):
                raise BadInput.msg("ledger.key_not_text", where=where, name=k)
            kv = type(v)
            out[k] = (
                v
                if kv is str or kv is int or kv is bool or v is None
                else to_jsonable(v, f"{where}.{k}")
            )
        return out
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BadInput.msg("ledger.not_finite", where=where)
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
            return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        mapped: dict[str, JsonValue] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise BadInput.msg("ledger.key_not_text", where=where, name=k)
            mapped[k] = to_jsonable(v, f"{where}.{k}")
        return mapped
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, bytes | bytearray):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(items)]
    raise BadInput.msg("ledger.not_json", where=where, kind=type(value).__name__)


def _number(value: int | float) -> str:
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            # I-JSON: integers beyond 2^53 lose precision in every JSON reader.
            raise BadInput.msg("ledger.int_too_big", value=value)
        return str(value)
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    # Shortest round-trip digits (Python repr == ECMAScript's), laid out the ES way.
    sign = "-" if value < 0 else ""
    digits, exp = _digits(abs(value))
    k = len(digits)
    n = exp + k  # position of the decimal point relative to the digits
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    mant = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mant}e{'+' if e > 0 else '-'}{abs(e)}"


def _digits(value: float) -> tuple[str, int]:
    """Shortest digit string and exponent with value == int(digits) * 10**exp."""
    _sign, digit_tuple, exp = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exp, int)
    return "".join(map(str, digit_tuple)), exp


def _encode(value: JsonValue, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int | float):
        out.append(_number(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, key in enumerate(
            sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        ):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:  # to_jsonable ran first; reaching here is a programming error
        raise TypeError(f"not JSON data: {type(value).__name__}")


MAX_SAFE_INTEGER = 2**53 - 1
_MAX_SAFE = MAX_SAFE_INTEGER


def _plain(value: JsonValue) -> bool:
    """Whether json.dumps(sort_keys) already gives the RFC 8785 form: no floats (ES number
    layout differs), no integers beyond 2^53, no keys outside the BMP (UTF-16 order).
    One loop over a stack (the ledger appends call it per event)."""
    stack = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        v = pop()
        kind = type(v)
        if kind is str or kind is bool or v is None:
            continue
        if kind is int:
            if v > _MAX_SAFE or v < -_MAX_SAFE:
                return False
        elif kind is dict:
            for k, x in v.items():
                if not (k.isascii() or max(k) < "\ud800"):
                    return False
                push(x)
        elif kind is list:
            extend(v)
        elif isinstance(v, float):
            return False
        elif isinstance(v, int) and not isinstance(v, bool):
            if abs(v) > _MAX_SAFE:
                return False
        elif isinstance(v, dict):
            for k, x in v.items():
                if not (k.isascii() or max(k) < "\ud800"):
                    return False
                push(x)
        elif isinstance(v, list):
            extend(v)
    return True


# One encoder made once: ``json.dumps`` with options builds a new JSONEncoder (and its C
# encoder) per call, which cost more than encoding a ledger event's details.
_PLAIN_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_C_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_C_PLAIN = (
    _C_MAKE_ENCODER(
        None,  # no cycle markers: to_jsonable already refuses what is not a tree
        _PLAIN_ENCODER.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        True,  # sort_keys
        False,
        True,
    )
    if _C_MAKE_ENCODER is not None
    else None
)
# A JSON string token as RFC 8785 writes it (json's C encoder: only the required escapes,
# lower-case ``\u00xx`` for other control characters).
encode_string = json.encoder.encode_basestring


def canonical_text(value: JsonValue) -> str:
    """RFC 8785 text of plain JSON data (already through :func:`to_jsonable`), not yet
    UTF-8: the ledger splices it into a body it lays out itself (see
    :func:`handover.ledger.ledger.body_text`), byte-identical to :func:`canonical_json_of`."""
    if _plain(value):
        return plain_text(value)
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def plain_text(value: JsonValue) -> str:
    """``json.dumps(value, sort_keys=True)`` without spaces or ASCII escapes: the RFC 8785
    text of a value :func:`_plain` accepts (the caller has checked that it does)."""
    if _C_PLAIN is not None:
        return "".join(_C_PLAIN(value, 0))
    return _PLAIN_ENCODER.encode(value)


def utf8(text: str) -> bytes:
    """``text`` in UTF-8; a lone surrogate (no UTF-8 form) is :class:`BadInput`."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput.msg("ledger.lone_surrogate") from None


def canonical_json_of(value: JsonValue) -> bytes:
    """RFC 8785 bytes of plain JSON data (already through :func:`to_jsonable`)."""
    return utf8(canonical_text(value))


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 encoding of ``value`` (after :func:`to_jsonable`)."""
    return canonical_json_of(to_jsonable(value, "body"))
