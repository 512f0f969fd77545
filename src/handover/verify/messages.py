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
        # errors (raised with BadInput.msg; ``spec`` is the source or target, password masked)
        "verify.no_sqlite": {
            "zh-CN": "{spec}:SQLite 文件不存在",
            "en": "{spec}: no such SQLite file",
        },
        "verify.unsupported": {
            "zh-CN": "{spec}:verify 仅支持 SQLite、PostgreSQL 和 MariaDB/MySQL",
            "en": "{spec}: verify supports SQLite, PostgreSQL and MariaDB/MySQL",
        },
        "verify.bad_url": {
            "zh-CN": "无法使用 {spec}:{kind}",
            "en": "cannot use {spec}: {kind}",
        },
        "verify.unreachable": {
            "zh-CN": "无法连接 {spec}({reason})",
            "en": "cannot connect to {spec} ({reason})",
        },
        "verify.no_tables": {
            "zh-CN": "无法读取 {spec} 的表({kind})",
            "en": "cannot read the tables of {spec} ({kind})",
        },
        "verify.source_only_column": {
            "zh-CN": "表 {table}:列 {column} 仅存在于源库",
            "en": "table {table}: column {column} exists in the source only",
        },
        "verify.target_only_column": {
            "zh-CN": "表 {table}:列 {column} 仅存在于目标库",
            "en": "table {table}: column {column} exists in the target only",
        },
        "verify.no_primary_key": {
            "zh-CN": "表 {table} 在源库和目标库中均无主键;verify 按主键逐行比对"
            "(请添加主键,或用 --tables 只比对其他表)",
            "en": "table {table} has no primary key on either side; verify compares rows by "
            "key (add a primary key, or compare with --tables)",
        },
        "verify.no_source_table": {
            "zh-CN": "源库 {spec} 中不存在表 {table}",
            "en": "table {table} does not exist in the source {spec}",
        },
        "verify.no_target_table": {
            "zh-CN": "目标库 {spec} 中不存在表 {table}",
            "en": "table {table} does not exist in the target {spec}",
        },
        "verify.db_failed": {
            "zh-CN": "核验 {source} → {target} 时数据库出错({reason})",
            "en": "verify {source} → {target} failed in the database ({reason})",
        },
    }
)
