"""User-facing texts of the due-diligence extract, in zh-CN and English."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "deid.exists": {
            "zh-CN": "{path} 已存在;尽调数据包不会覆盖已有文件,请换一个 --out",
            "en": "{path} already exists; the extract never overwrites, choose another --out",
        },
        "deid.bad_k": {
            "zh-CN": "--k {k}:取值须不小于 2",
            "en": "--k {k}: use 2 or more",
        },
        "deid.bad_xlsx_limit": {
            "zh-CN": "--xlsx-limit {limit}:取值范围为 0 到 1048575 行(Excel 的上限)",
            "en": "--xlsx-limit {limit}: use 0 to 1048575 rows (Excel's limit)",
        },
        "deid.no_folder": {
            "zh-CN": "{path}:文件夹不存在",
            "en": "{path}: no such folder",
        },
        "deid.source_reject": {
            "zh-CN": "{source}:表 {table!r} 键 {row_key} 列 {column!r}:值与声明的类型不符",
            "en": "{source}: table {table!r} key {row_key} column {column!r}: "
            "value does not fit its declared type",
        },
        "deid.done": {
            "zh-CN": "尽调数据包已生成 → {path}:{tables} 张表、{rows} 行;令牌密钥 {key_id};"
            "k-匿名(k={k})不满足的表:{below}",
            "en": "Due-diligence extract → {path}: {tables} tables, {rows} rows; token key "
            "{key_id}; tables below k-anonymity (k={k}): {below}",
        },
    }
)
