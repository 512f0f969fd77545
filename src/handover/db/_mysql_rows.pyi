def rows(
    buffer: bytes | bytearray | memoryview,
    start: int,
    seq: int,
    columns: int,
    max_rows: int,
    max_bytes: int,
    /,
) -> tuple[int, int, int, int, object, list[tuple[bytes | None, bytes, bytes, int]]]: ...
