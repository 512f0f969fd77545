from typing import Any

Column = tuple[Any, Any]

def first_unframed(
    values: Column, opening: tuple[bytes | Column, ...], closing: tuple[bytes | Column, ...], /
) -> int: ...
