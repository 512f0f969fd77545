"""User-facing texts of the due-diligence extract, in zh-CN and English."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "deid.exists": {
            "zh-CN": "{path} 已存在;尽调数据包不会覆盖已有文件,请换一个 --out",
            "en": "{path} already exists; the extract never overwrites, choose another --out",
        },
        "deid.done": {
            "zh-CN": "尽调数据包已生成 → {path}:{tables} 张表、{rows} 行;令牌密钥 {key_id};"
            "k-匿名(k={k})不满足的表:{below}",
            "en": "Due-diligence extract → {path}: {tables} tables, {rows} rows; token key "
            "{key_id}; tables below k-anonymity (k={k}): {below}",
        },
    }
)
