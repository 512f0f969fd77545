"""The ledger's guard: no secret and no clear personal value ever reaches a ledger body.

Every text of an event (subject, purpose, each value in ``details``, integers written as
text) is scanned before it is hashed. What is found is masked in place, never stored:

- a value under a key that names a secret (password, secret, token, private key, api
  key, credential, passphrase, pin, cvv/cvn) becomes ``[redacted]``; a PEM block anywhere
  becomes ``[redacted PEM]``;
- an 18-character resident identity number passing the GB 11643 check keeps its first
  and last character (``1****************X``);
- a 13-19 digit number passing the Luhn check (bank card) keeps its last four digits;
- a mainland mobile number (``1[3-9]`` + 9 digits, optionally ``+86``) keeps the first
  three and last four digits (``138****5678``), the display masking of GB/T 35273;
- keys are texts too: a details key that is such a value is masked the same way (with
  ``*`` and a number added while it would equal another key of its map).

A text that is exactly a lowercase hex digest (40, 64, 96 or 128 hex characters with at
least one letter: SHA-1, SHA-256/SM3, SHA-384, SHA-512) is left as it is: about one
SHA-256 in thirty holds a run of digits shaped like a mobile or a Luhn-valid card
number, and a masked digest can no longer bind the file it names.

Masking rather than refusing keeps the command that records the event working while the
ledger stays clean; :attr:`GuardResult.masked` counts what was masked.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from typing import Any

from handover.detect.checksums import is_valid_luhn, is_valid_resident_id

SECRET_WORDS = frozenset(
    [
        "password",
        "passwd",
        "passphrase",
        "pass",
        "pwd",
        "secret",
        "secrets",
        "token",
        "pin",
        "cvv",
        "cvn",
        "cvc",
        "cvv2",
        "otp",
        "credential",
        "credentials",
        "apikey",
        "privatekey",
    ]
)
SECRET_PAIRS = frozenset(
    {
        ("private", "key"),
        ("api", "key"),
        ("secret", "key"),
        ("access", "key"),
        ("session", "key"),
        ("signing", "key"),
    }
)


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a details key names a secret (``password``, ``api_key``, ``dbToken`` …)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key).lower()
    words = [w for w in re.split(r"[^a-z0-9]+", spaced) if w]
    return any(w in SECRET_WORDS for w in words) or any(
        pair in SECRET_PAIRS for pair in itertools.pairwise(words)
    )


PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|$)", re.DOTALL)
RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
CARD = re.compile(r"(?<!\d)\d{13,19}(?!\d)")
CARD_SPACED = re.compile(r"(?<!\d)\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?(?!\d)")
MOBILE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")


@dataclass
class GuardResult:
    """The masked value and how many values were masked."""

    value: Any
    masked: int


# Cheap pre-scan, one search per text. Every digit pattern above needs 11 characters in a
# row that start and end with a digit and hold only digits, spaces and hyphens (a mobile's
# 1[3-9] + 9 digits with its optional separators, a spaced card's three groups of four, 13+
# digits of a card or resident ID) and a PEM block its BEGIN line: a text with neither
# cannot match, so it is returned as it is and the substitutions run only on the rest. No
# alternative matches a line break, so one search over texts joined by "\n" finds a
# match exactly when one of them has one (:func:`needs_scan`).
MAYBE = re.compile(r"\d[\d -]{9}\d|-----BEGIN")
HEX_DIGEST = re.compile(r"(?=[0-9]*[a-f])(?:[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})")


def _mask_text(text: str) -> tuple[str, int]:
    if not MAYBE.search(text) or HEX_DIGEST.fullmatch(text):
        return text, 0
    return substitute(text)


def substitute(text: str) -> tuple[str, int]:
    """Every pattern masked in ``text`` (no pre-scan, no digest exemption) and the count."""
    count = 0

    def pem(_m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return "[redacted PEM]"

    def rid(m: re.Match[str]) -> str:
        nonlocal count
        v = m.group(0)
        if not is_valid_resident_id(v):
            return v
        count += 1
        return v[0] + "*" * 16 + v[-1]

    def card(m: re.Match[str]) -> str:
        nonlocal count
        v = m.group(0)
        digits = re.sub(r"[ -]", "", v)
        if not 13 <= len(digits) <= 19 or not is_valid_luhn(digits):
            return v
        count += 1
        return "*" * (len(digits) - 4) + digits[-4:]

    def mobile(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"{m.group(1)}****{m.group(3)}"

    text = PEM.sub(pem, text)
    text = RESIDENT_ID.sub(rid, text)
    text = CARD_SPACED.sub(card, text)
    text = CARD.sub(card, text)
    text = MOBILE.sub(mobile, text)
    return text, count


def needs_scan(texts: list[str]) -> bool:
    """Whether any of ``texts`` may hold something the guard masks (one regex search over
    them all; False proves each would come back unchanged from :func:`_mask_text`)."""
    return MAYBE.search("\n".join(texts)) is not None


def _mask_key(
    key: Any, mapping: dict[Any, Any], out: dict[Any, Any], taken: dict[str, int], total: list[int]
) -> Any:
    """A key that holds what the guard masks (a map keyed by mobile numbers, say), masked
    like a value. While the masked key is another key of the map or of its masked copy
    ``out``, ``*`` and a number are added (``taken`` counts them per masked key), so no
    value is lost to a collision."""
    if not isinstance(key, str) or MAYBE.search(key) is None:
        return key
    masked, n = _mask_text(key)
    if not n:
        return key
    total[0] += n
    if masked in mapping or masked in out:
        base, i = masked, taken.get(masked, 0)
        while masked in mapping or masked in out:
            i += 1
            masked = f"{base}*{i}"
        taken[base] = i
    return masked


def _walk(v: Any, key: str | None, total: list[int]) -> Any:
    if key is not None and is_secret_key(key) and v not in (None, "", True, False):
        total[0] += 1
        return "[redacted]"
    kind = type(v)
    if kind is str:
        if MAYBE.search(v) is None:
            return v
        masked, n = _mask_text(v)
        total[0] += n
        return masked
    if kind is bool or v is None or (kind is int and -(10**10) < v < 10**10):
        return v
    if isinstance(v, str):
        masked, n = _mask_text(v)
        total[0] += n
        return masked
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**10:
        masked, n = _mask_text(str(v))
        if n:
            total[0] += n
            return masked
        return v
    if isinstance(v, dict):
        out: dict[Any, Any] = {}
        taken: dict[str, int] = {}
        for k, x in v.items():
            masked = _mask_key(k, v, out, taken, total)
            # a masked key may read as a secret's name ("pin4111…" -> "pin****…"): its value
            # is then redacted as under that name, so guarding the result again changes nothing
            out[masked] = _walk(x, masked if is_secret_key(masked) else k, total)
        return out
    if isinstance(v, list):
        return [_walk(x, key, total) for x in v]
    return v


def guard(value: Any) -> GuardResult:
    """Mask secrets and clear personal values anywhere inside JSON data ``value``."""
    total = [0]
    return GuardResult(_walk(value, None, total), total[0])
