"""User-facing texts of the database layer, in zh-CN and English."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "db.unusable": {
            "zh-CN": "无法使用 {url}:{reason}",
            "en": "cannot use {url}: {reason}",
        },
        "db.unreachable": {
            "zh-CN": "无法连接 {url}:{reason}",
            "en": "{url} is unreachable: {reason}",
        },
        "db.unsupported_type": {
            "zh-CN": "表 {table!r} 列 {column!r}:类型 {type} 无法迁移"
            "(支持:整数与浮点数、定点小数、文本、日期、时间戳、布尔值、二进制、json、uuid)",
            "en": "table {table!r} column {column!r}: type {type} cannot be migrated "
            "(supported: numbers, decimals, text, dates, timestamps, booleans, blobs, json, uuid)",
        },
        "db.no_source_table": {
            "zh-CN": "源库中没有表 {table!r}",
            "en": "source has no table {table!r}",
        },
        "db.unknown_kind": {
            "zh-CN": "列 {column!r}:未知的类型类别 {kind!r}",
            "en": "column {column!r}: unknown kind {kind!r}",
        },
        # reading: where (nested in other messages) and what went wrong
        "db.at_column": {
            "zh-CN": "{where} 列 {column!r}",
            "en": "{where} column {column!r}",
        },
        "db.column_part": {"zh-CN": " 列 {column!r}", "en": " column {column!r}"},
        "db.bad_hex": {
            "zh-CN": "{where}:有 bytea 值未以十六进制形式传来",
            "en": "{where}: a bytea value did not arrive as hex",
        },
        "db.no_convert": {
            "zh-CN": "{where}{column}:有值无法转换为其类型",
            "en": "{where}{column}: a value does not convert to its type",
        },
        "db.too_long": {
            "zh-CN": "{where}:有一行转为文本后超过服务器的 max_allowed_packet;"
            "请调大 max_allowed_packet",
            "en": "{where}: a row is longer than the server's max_allowed_packet once "
            "rendered as text; raise max_allowed_packet",
        },
        "db.bad_server_csv": {
            "zh-CN": "{where}:服务器返回的行无法按 CSV 解析",
            "en": "{where}: the server's rows did not parse as CSV",
        },
        "db.rows_parsed": {
            "zh-CN": "{where}:读取 {rows} 行,解析出 {parsed} 行",
            "en": "{where}: {rows} rows read, {parsed} parsed",
        },
        "db.not_url": {
            "zh-CN": "{url}:不是数据库 URL(请使用 postgresql://、mysql://、sqlite:///…)",
            "en": "{url}: not a database URL (use postgresql://, mysql://, sqlite:///…)",
        },
    }
)
