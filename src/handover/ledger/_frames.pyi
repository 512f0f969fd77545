from typing import Any

def first_unframed(
    values: tuple[Any, Any], prefixes: tuple[Any, Any], suffixes: tuple[Any, Any], /
) -> int: ...
