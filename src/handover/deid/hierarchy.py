"""Generalisation hierarchies of quasi-identifiers (GB/T 37964-2019 §4.3 泛化; ARX-style).

A hierarchy is a chain of levels, finest first, ending in ``*`` (everything hidden). Each
step maps the values of one level to the next, so a coarser level is a function of the
finer one: equivalence classes nest, which is what lets the lattice search in
:mod:`handover.deid.anonymize` prune. Nulls stay null at every level below ``*`` (a
missing value is shown as missing, never as a made-up one); ``*`` hides them too, so the
top of every hierarchy is one class.

- dates: ``day → month → year → 5y → 10y → *`` (``1988-05-01 → 1988-05 → 1988 →
  1985-1989 → 1980-1989 → *``);
- Chinese addresses: ``full → district → city → province → *`` (``北京市朝阳区建国路1号 →
  北京市朝阳区 → 北京市 → 北京市 → *``), the city rule being the extract's
  :func:`handover.deid.mask.region`;
- numbers (income, amounts): ``value → three bands of growing width → *``
  (``4300 → [4000, 5000) → [0, 5000) → [0, 25000) → *``);
- categorical codes (gender, marital status, education, employer): ``value → *``.

Every step is a pyarrow.compute kernel over a whole array; the search applies it to the
distinct values of a column only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from handover.deid.mask import STAR, as_text, region

Step = Callable[[pa.Array], pa.Array]

#: a district / county after the city; names are short and never hold digits or a street
_DISTRICT = (
    r"^(?P<r>(?:[^省市]{1,8}?(?:省|自治区))?[^省市县区]{1,10}?(?:市|自治州|地区|盟)"
    r"[^省市县区街路号巷村0-9]{1,6}?(?:区|县|旗|市))"
)
#: a province, autonomous region, municipality or SAR at the start of a value
_PROVINCE = (
    r"^(?P<r>[^省市]{1,8}?(?:省|自治区)|(?:北京|天津|上海|重庆)市|(?:香港|澳门)(?:特别行政区)?)"
)


@dataclass(frozen=True)
class Hierarchy:
    """A chain of generalisation levels, finest first, the last one ``*``."""

    kind: str  # date | address | number | category
    levels: tuple[str, ...]
    steps: tuple[Step, ...]  # steps[i] maps level i values to level i + 1 values

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.levels) - 1 or self.levels[-1] != STAR:
            raise ValueError(f"hierarchy {self.kind}: one step per level, ending in *")

    @property
    def height(self) -> int:
        """The index of the top level (``*``)."""
        return len(self.levels) - 1

    def level(self, name: str) -> int:
        """The index of the level called ``name``."""
        return self.levels.index(name)

    def generalise(self, values: pa.Array, start: int, to: int) -> pa.Array:
        """Values given at level ``start`` generalised to level ``to`` (``to >= start``)."""
        if not 0 <= start <= to <= self.height:
            raise ValueError(f"hierarchy {self.kind}: levels {start} -> {to} out of range")
        out = values
        for step in self.steps[start:to]:
            out = step(out)
        return out


def star(values: pa.Array) -> pa.Array:
    """Every value hidden as ``*``, a missing one too (``*`` says nothing, not even that)."""
    return pa.repeat(pa.scalar(STAR, pa.string()), len(values))


# --- dates -----------------------------------------------------------------------------------


def _month(values: pa.Array) -> pa.Array:
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        return pc.strftime(values, format="%Y-%m")
    found = pc.extract_regex(as_text(values), r"^(?P<m>[0-9]{4}-[0-9]{2})")
    return pc.struct_field(found, "m")


def _year(values: pa.Array) -> pa.Array:
    if pa.types.is_integer(values.type):
        return pc.cast(values, pa.int16())
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        return pc.cast(pc.year(values), pa.int16())
    found = pc.extract_regex(as_text(values), r"^(?P<y>[0-9]{4})")
    return pc.cast(pc.struct_field(found, "y"), pa.int16())


def _years(width: int) -> Step:
    """A year (int) or a band label (``1985-1989``) to the band of ``width`` years."""

    def step(values: pa.Array) -> pa.Array:
        year = pc.cast(_year(values), pa.int64())
        blocks = pc.floor(pc.divide(pc.cast(year, pa.float64()), float(width)))
        lo = pc.multiply(pc.cast(blocks, pa.int64()), width)
        return pc.binary_join_element_wise(
            pc.cast(lo, pa.string()), pc.cast(pc.add(lo, width - 1), pa.string()), "-"
        )

    return step


def date_hierarchy() -> Hierarchy:
    """``day → month → year → 5y → 10y → *`` (a year stays an int16, bands are text)."""
    return Hierarchy(
        "date",
        ("day", "month", "year", "5y", "10y", STAR),
        (_month, _year, _years(5), _years(10), star),
    )


# --- Chinese addresses -------------------------------------------------------------------------


def _district(values: pa.Array) -> pa.Array:
    s = as_text(values)
    found = pc.struct_field(pc.extract_regex(s, _DISTRICT), "r")
    return pc.coalesce(found, region(s))


def _province(values: pa.Array) -> pa.Array:
    s = as_text(values)
    found = pc.struct_field(pc.extract_regex(s, _PROVINCE), "r")
    return pc.coalesce(found, pc.if_else(pc.is_valid(s), STAR, pa.scalar(None, pa.string())))


def address_hierarchy() -> Hierarchy:
    """``full → district → city → province → *`` for Chinese addresses."""
    return Hierarchy(
        "address",
        ("full", "district", "city", "province", STAR),
        (_district, region, _province, star),
    )


# --- numbers -----------------------------------------------------------------------------------


def _band(width: float) -> Step:
    """A number, or the label of a finer band, to the label ``[lo, hi)`` of its band."""
    digits = max(0, -math.floor(math.log10(width))) if width < 1 else 0

    def step(values: pa.Array) -> pa.Array:
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            found = pc.extract_regex(values, r"^\[(?P<lo>-?[0-9.]+),")
            x = pc.cast(pc.struct_field(found, "lo"), pa.float64())
        else:
            x = pc.cast(values, pa.float64())
        # The nudge keeps a lower bound already on the grid (0.24 / 0.01 = 23.999…) in its band.
        lo = pc.multiply(pc.floor(pc.add(pc.divide(x, width), 1e-9)), width)
        hi = pc.add(lo, width)
        # Fixed-point text: a float printed as is would show 0.35000000000000003.
        fixed = pa.decimal128(38, digits) if digits else pa.int64()
        lo_s = pc.cast(pc.cast(pc.round(lo, digits), fixed, safe=False), pa.string())
        hi_s = pc.cast(pc.cast(pc.round(hi, digits), fixed, safe=False), pa.string())
        return pc.binary_join_element_wise("[", lo_s, ", ", hi_s, ")", "")

    return step


def band_widths(values: pa.Array, step: float | None = None) -> tuple[float, float, float]:
    """Three nested band widths: ``step/5, step, 5·step``, ``step`` being the taxonomy's
    display band of the type or else a tenth of the order of magnitude of the largest value."""
    if not step:
        top = pc.max(pc.abs(pc.cast(values, pa.float64()))).as_py() if len(values) else None
        exp = math.floor(math.log10(top)) if top else 1
        step = 10.0 ** (exp - 1)
    return (step / 5, float(step), step * 5)


def number_hierarchy(widths: tuple[float, ...]) -> Hierarchy:
    """``value → bands of each width (each a multiple of the one before) → *``."""
    for fine, coarse in itertools.pairwise(widths):
        if coarse <= fine or abs(coarse / fine - round(coarse / fine)) > 1e-9:
            raise ValueError(f"band widths {widths} do not nest")
    names = tuple(f"band:{_fmt(w)}" for w in widths)
    return Hierarchy("number", ("value", *names, STAR), (*(_band(w) for w in widths), star))


def _fmt(width: float) -> str:
    return str(int(width)) if width == int(width) else repr(width)


# --- categories --------------------------------------------------------------------------------


def category_hierarchy() -> Hierarchy:
    """``value → *`` (gender, marital status, education, employer, codes)."""
    return Hierarchy("category", ("value", STAR), (star,))


def for_column(pii_type: str | None, values: pa.Array) -> Hierarchy:
    """The hierarchy of a quasi-identifier column, by PII type first, then by Arrow type."""
    from handover.taxonomy import get

    kind = values.type
    if pii_type == "birth_date" or pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return date_hierarchy()
    if pii_type == "address":
        return address_hierarchy()
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    if numeric:
        step = None
        if pii_type:
            try:
                rule = get(pii_type).mask
            except KeyError:
                rule = None
            step = (
                float(rule.step) if rule is not None and rule.kind == "band" and rule.step else None
            )
        return number_hierarchy(band_widths(values, step))
    return category_hierarchy()
