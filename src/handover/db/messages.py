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
        "db.not_url": {
            "zh-CN": "{url}:不是数据库 URL(请使用 postgresql://、mysql://、sqlite:///…)",
            "en": "{url}: not a database URL (use postgresql://, mysql://, sqlite:///…)",
        },
    }
)
