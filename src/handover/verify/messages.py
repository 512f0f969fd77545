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
        # what the comparison normalised (``VerifyResult.normalisations``)
        "verify.normalisations": {"zh-CN": "比较口径:", "en": "Compared as:"},
        "verify.norm.stored": {
            "zh-CN": "SQLite 对 SQLite:按引擎存储的值比较(存储类型与每个字节,即 quote() 的结果),"
            "不做任何规范化",
            "en": "SQLite against SQLite: values compared as the engine stores them (storage "
            "class and every byte, as quote() gives them); no normalisation",
        },
        "verify.norm.timestamp_instant": {
            "zh-CN": "时间戳按时刻比较,精确到微秒(文本写法不比较:T 分隔符、小数秒末尾的 0;"
            "带时区的值与带偏移的 SQLite 文本换算为 UTC)",
            "en": "timestamps compared as instants at microsecond precision (their text "
            "spelling is not compared: a 'T', trailing zeros of the fraction; zone-aware "
            "values and SQLite text with an offset in UTC)",
        },
        "verify.norm.date_text": {
            "zh-CN": "日期按 YYYY-MM-DD 比较(SQLite 文本取前 10 个字符)",
            "en": "dates compared as YYYY-MM-DD (SQLite text: its first 10 characters)",
        },
        "verify.norm.decimal_value": {
            "zh-CN": "定点小数按数值比较:末尾的 0 不计(12.30 = 12.3);SQLite REAL 取 15 位有效数字",
            "en": "decimals compared by value: trailing zeros ignored (12.30 = 12.3); a "
            "SQLite REAL read at 15 significant digits",
        },
        "verify.norm.float_15": {
            "zh-CN": "浮点数按 15 位有效数字比较",
            "en": "floating-point numbers compared at 15 significant digits",
        },
        "verify.norm.int_value": {
            "zh-CN": "整数按数值比较(SQLite 中取整数值的 REAL 等于该整数)",
            "en": "integers compared by value (an integral SQLite REAL equals the integer)",
        },
        "verify.norm.bool_01": {
            "zh-CN": "布尔值按 0/1 比较(true/t/yes/on 与非零数为 1)",
            "en": "booleans compared as 0/1 (true/t/yes/on and non-zero numbers are 1)",
        },
        "verify.norm.text_nfc": {
            "zh-CN": "文本按 Unicode NFC 比较(大小写与空格照常比较)",
            "en": "text compared after Unicode NFC (case and spaces are compared)",
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
            "zh-CN": "无法使用 {url}:{reason}",
            "en": "cannot use {url}: {reason}",
        },
        "verify.unreachable": {
            "zh-CN": "无法连接 {url}({reason})",
            "en": "cannot connect to {url} ({reason})",
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
