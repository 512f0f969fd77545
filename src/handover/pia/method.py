"""The assessment method (``method.toml``): impact and likelihood scales, the risk matrix,
the risk-source and rights dimensions, with their labels in both languages."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handover.errors import BadInput
from handover.i18n import normalize_lang

METHOD_FILE = Path(__file__).with_name("method.toml")


@dataclass(frozen=True)
class Method:
    """One version of the method: ordered scales, the matrix and the dimension labels."""

    version: int
    impact: tuple[str, ...]
    likelihood: tuple[str, ...]
    levels: tuple[str, ...]
    matrix: dict[str, tuple[str, ...]]
    labels: dict[str, dict[str, tuple[str, str]]]
    sources: dict[str, tuple[str, str]]
    rights: dict[str, tuple[str, str]]

    def level(self, impact: str, likelihood: str) -> str:
        """The risk level of ``impact`` × ``likelihood`` (BadInput naming a value off the scale)."""
        if impact not in self.impact:
            raise BadInput.msg(
                "pia.bad_scale", what="impact", value=impact, allowed=", ".join(self.impact)
            )
        if likelihood not in self.likelihood:
            raise BadInput.msg(
                "pia.bad_scale",
                what="likelihood",
                value=likelihood,
                allowed=", ".join(self.likelihood),
            )
        return self.matrix[likelihood][self.impact.index(impact)]

    def rank(self, level: str) -> int:
        """Position of a risk level (0 = lowest); -1 for an unknown one."""
        return self.levels.index(level) if level in self.levels else -1

    def label(self, kind: str, key: str, lang: str) -> str:
        """The label of ``key`` of scale or dimension ``kind`` in ``lang`` (the key itself if unknown)."""
        i = 0 if normalize_lang(lang) == "zh-CN" else 1
        table = {"sources": self.sources, "rights": self.rights}.get(kind) or self.labels.get(
            kind, {}
        )
        pair = table.get(key)
        return pair[i] if pair else key

    def to_json(self) -> dict[str, Any]:
        """The method as recorded in every assessment."""
        return {
            "version": self.version,
            "impact": list(self.impact),
            "likelihood": list(self.likelihood),
            "levels": list(self.levels),
            "matrix": {k: list(v) for k, v in self.matrix.items()},
        }


def _pairs(raw: Any) -> dict[str, tuple[str, str]]:
    return {str(k): (str(v[0]), str(v[1])) for k, v in dict(raw).items()}


@functools.lru_cache(maxsize=1)
def load_method(path: Path = METHOD_FILE) -> Method:
    """The method shipped beside this module; a malformed file is a BadInput naming it."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        impact = tuple(str(x) for x in raw["impact"])
        likelihood = tuple(str(x) for x in raw["likelihood"])
        levels = tuple(str(x) for x in raw["levels"])
        matrix = {str(k): tuple(str(x) for x in v) for k, v in raw["matrix"].items()}
        method = Method(
            version=int(raw["version"]),
            impact=impact,
            likelihood=likelihood,
            levels=levels,
            matrix=matrix,
            labels={str(k): _pairs(v) for k, v in raw["labels"].items()},
            sources=_pairs(raw["sources"]),
            rights=_pairs(raw["rights"]),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise BadInput.msg("pia.bad_method", path=path, detail=str(exc).splitlines()[0]) from None
    # A matrix row per likelihood, one level per impact, every level known and never
    # lower for a higher impact or likelihood: otherwise a check could pass by accident.
    for lk in likelihood:
        row = matrix.get(lk)
        if row is None or len(row) != len(impact) or any(x not in levels for x in row):
            raise BadInput.msg("pia.bad_method", path=path, detail=f"matrix row {lk}")
    for i, lk in enumerate(likelihood):
        for j in range(len(impact)):
            here = levels.index(matrix[lk][j])
            if (j and here < levels.index(matrix[lk][j - 1])) or (
                i and here < levels.index(matrix[likelihood[i - 1]][j])
            ):
                raise BadInput.msg(
                    "pia.bad_method", path=path, detail=f"matrix not monotone at {lk}"
                )
    return method
