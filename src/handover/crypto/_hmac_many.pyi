def hex_many(
    digest: str,
    block_key: bytes,
    offsets: memoryview,
    data: memoryview,
    count: int,
    hex_chars: int,
    /,
) -> bytes | None: ...
def hex_digests(
    digest: str, offsets: memoryview, data: memoryview, count: int, hex_chars: int, /
) -> bytes | None: ...
