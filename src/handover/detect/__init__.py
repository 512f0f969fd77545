"""Discovery and classification of personal information (``handover scan``).

- :mod:`handover.detect.recognizers`: the recognizers, registered in one place;
- :mod:`handover.detect.profile`: the column kernel (value evidence per batch);
- :mod:`handover.detect.classify`: value + name + neighbour evidence → verdict;
- :mod:`handover.detect.freetext`: spans inside notes;
- :mod:`handover.detect.scan`: the stage (sample / full, store, report, ledger).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def validate(key: str, values: list[str | None]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Whether each value is valid for recognizer ``key`` or PII type ``key`` (any of its
    value recognizers; masked forms such as ``138****5678`` only by their recognizer's
    key), after the same normalisation a scan applies."""
    import pyarrow as pa

    from handover.detect.normalize import to_compact, to_text
    from handover.detect.recognizers import BY_KEY, TYPES, for_type

    if key in TYPES:
        recs = [r for r in for_type(key) if not r.needs_context and not r.masked] or for_type(key)
    else:
        recs = [BY_KEY[key]]
    if not recs:
        raise KeyError(key)
    text = to_text(pa.array(values, pa.string()))
    compact = to_compact(text)
    out = np.zeros(len(values), dtype=np.bool_)
    for rec in recs:
        out |= np.asarray(
            rec.match(compact if rec.form == "compact" else text), dtype=np.bool_
        ) & ~np.asarray(text.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    return out


__all__ = ["validate"]
