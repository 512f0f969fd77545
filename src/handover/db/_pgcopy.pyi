from collections.abc import Sequence
from typing import Any

def rows(columns: Sequence[tuple[str, int, Any, int, Any, Any]], n: int, /) -> bytes: ...
