"""User-facing texts of ``handover verify`` (zh-CN and English)."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "verify.title": {
            "zh-CN": "迁移核验:{source} → {target}",
            "en": "Migration verification: {source} → {target}",
        },
        "verify.col.table": {"zh-CN": "表", "en": "Table"},
        "verify.col.source_rows": {"zh-CN": "源行数", "en": "Source rows"},
        "verify.col.target_rows": {"zh-CN": "目标行数", "en": "Target rows"},
        "verify.col.missing": {"zh-CN": "目标缺失", "en": "Missing"},
        "verify.col.extra": {"zh-CN": "目标多出", "en": "Extra"},
        "verify.col.changed": {"zh-CN": "内容不同", "en": "Changed"},
        "verify.col.equal": {"zh-CN": "一致", "en": "Equal"},
        "verify.equal": {
            "zh-CN": "全部 {tables} 张表逐行一致(下载 {fetched} 行,用时 {seconds:.1f} 秒)",
            "en": "All {tables} tables are equal row by row ({fetched} rows downloaded, {seconds:.1f} s)",
        },
        "verify.different": {
            "zh-CN": "发现差异:{tables} 张表不一致(下载 {fetched} 行,用时 {seconds:.1f} 秒);用 --json 查看主键",
            "en": "Differences found in {tables} tables ({fetched} rows downloaded, {seconds:.1f} s); use --json for the keys",
        },
    }
)
