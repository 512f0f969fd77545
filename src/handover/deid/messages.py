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
            "无法满足 k-匿名(k={k})而拒绝交付的表:{below}",
            "en": "Due-diligence extract → {path}: {tables} tables, {rows} rows; token key "
            "{key_id}; tables refused for not reaching k-anonymity (k={k}): {below}",
        },
        "deid.bad_max_suppression": {
            "zh-CN": "--max-suppression {value}:取值范围为 0 到 100(每张表可隐匿记录的百分比)",
            "en": "--max-suppression {value}: use 0 to 100 (percent of a table's records "
            "that may be suppressed)",
        },
        "deid.bad_l_diversity": {
            "zh-CN": "--l-diversity {value}:格式为 列名:l,l 为不小于 2 的整数(如 ysr:3)",
            "en": "--l-diversity {value}: use COLUMN:L with L an integer of 2 or more (e.g. ysr:3)",
        },
        "deid.bad_l_column": {
            "zh-CN": "--l-diversity {column}:没有任何导出表交付此列,或它本身是准标识符",
            "en": "--l-diversity {column}: no extracted table ships this column, or it is a "
            "quasi-identifier itself",
        },
        "deid.k_check": {
            "zh-CN": "表 {table!r}:写出的数据最小等价类为 {min_k},低于 k={k};数据包未生成",
            "en": "table {table!r}: the written data has a smallest class of {min_k}, below "
            "k={k}; no extract was made",
        },
        "deid.refuse.rows": {
            "zh-CN": "只有 {rows} 条记录,少于 k={k}",
            "en": "only {rows} records, fewer than k={k}",
        },
        "deid.refuse.cap_l": {
            "zh-CN": "即使所有准标识符都泛化为 *,为满足 k={k} 与 {column} 的 {l}-多样性仍须隐匿 "
            "{needed} / {rows} 条记录,超过上限 {cap} 条",
            "en": "even with every quasi-identifier generalised to *, meeting k={k} and "
            "{l}-diversity of {column} would suppress {needed} of {rows} records, above the "
            "cap of {cap}",
        },
        "deid.level.day": {"zh-CN": "日期", "en": "date"},
        "deid.level.month": {"zh-CN": "年月", "en": "month"},
        "deid.level.year": {"zh-CN": "年", "en": "year"},
        "deid.level.5y": {"zh-CN": "5 年段", "en": "5-year band"},
        "deid.level.10y": {"zh-CN": "10 年段", "en": "10-year band"},
        "deid.level.full": {"zh-CN": "完整地址", "en": "full address"},
        "deid.level.district": {"zh-CN": "区县", "en": "district / county"},
        "deid.level.city": {"zh-CN": "地市", "en": "city"},
        "deid.level.province": {"zh-CN": "省级", "en": "province"},
        "deid.level.value": {"zh-CN": "原值", "en": "value"},
        "deid.level.band": {"zh-CN": "按 {width} 分档", "en": "bands of {width}"},
        "deid.level.star": {"zh-CN": "全部隐去 (*)", "en": "hidden (*)"},
        "deid.report.title": {
            "zh-CN": "# k-匿名评估报告(GB/T 37964-2019)",
            "en": "# k-anonymity report (GB/T 37964-2019)",
        },
        "deid.report.intro": {
            "zh-CN": "目标 k = {k};每张表最多隐匿 {cap} 的记录;准标识符类型:{qi};{l}。"
            "交付的每张表在其准标识符上都满足 k:准标识符按层级泛化(选信息损失最小的组合),"
            "仍低于 k 的等价类中的记录被隐匿(删除);在上限内做不到的表拒绝交付,不写出任何文件。"
            "信息损失为 Loss Metric(0 = 保留固定规则给出的全部细节,1 = 全部隐去),"
            "被隐匿的记录按 1 计入总损失。",
            "en": "Target k = {k}; at most {cap} of a table's records may be suppressed; "
            "quasi-identifier types: {qi}; {l}. Every shipped table meets k over its "
            "quasi-identifiers: they are generalised along their hierarchies (the combination "
            "of least information loss), records still in classes below k are suppressed "
            "(removed); a table that cannot meet k within the cap is refused and no file of "
            "it is written. Information loss is the Loss Metric (0 = all the detail the fixed "
            "rule leaves, 1 = hidden); a suppressed record counts 1 in the total.",
        },
        "deid.report.l_none": {"zh-CN": "未要求 l-多样性", "en": "no l-diversity required"},
        "deid.report.l_set": {
            "zh-CN": "敏感属性 {column} 须满足 {l}-多样性(每个等价类至少 {l} 个不同的非空值)",
            "en": "sensitive attribute {column} must be {l}-diverse (at least {l} distinct "
            "non-null values in every class)",
        },
        "deid.report.summary_head": {
            "zh-CN": "| 表 | 记录数 | 隐匿记录 | 交付记录 | 达到的 k | 等价类数 | 总信息损失 | 结论 |",
            "en": "| table | records | suppressed | shipped | achieved k | classes | total loss | "
            "verdict |",
        },
        "deid.report.shipped": {"zh-CN": "满足,交付", "en": "met, shipped"},
        "deid.report.not_met": {"zh-CN": "不满足", "en": "not met"},
        "deid.report.refused": {"zh-CN": "拒绝交付:{reason}", "en": "refused: {reason}"},
        "deid.report.columns_head": {
            "zh-CN": "| 列 | 类型 | 固定规则层级 | 选定层级 | 信息损失 |",
            "en": "| column | type | fixed rule's level | chosen level | loss |",
        },
        "deid.report.table_done": {
            "zh-CN": "隐匿 {suppressed} 条记录(上限 {cap} 条);写出的数据最小等价类为 {min_k}"
            "(按写出的文件重新计数)。",
            "en": "{suppressed} records suppressed (cap {cap}); the smallest class of the "
            "written data is {min_k} (counted again on the written file).",
        },
        "deid.report.table_refused": {
            "zh-CN": "拒绝交付,未写出 Parquet/XLSX:{reason}。",
            "en": "Refused, no Parquet/XLSX written: {reason}.",
        },
        "deid.report.l_done": {
            "zh-CN": "{column} 的 l-多样性:要求 {l},最少 {min_l} 个不同值。",
            "en": "l-diversity of {column}: {l} required, at least {min_l} distinct values.",
        },
        "deid.report.search_optimal": {
            "zh-CN": "搜索评估了 {nodes} / {lattice} 个泛化组合,结果为最优。",
            "en": "The search evaluated {nodes} of {lattice} generalisation combinations; the "
            "result is optimal.",
        },
        "deid.report.search_budget": {
            "zh-CN": "搜索在评估 {nodes} / {lattice} 个泛化组合后停止:结果满足 k,但不一定是损失最小的。",
            "en": "The search stopped after {nodes} of {lattice} generalisation combinations: "
            "the result meets k but may not be the least loss.",
        },
        "deid.report.joins_title": {"zh-CN": "## 对跨表关联的影响", "en": "## Effect on joins"},
        "deid.report.joins_intro": {
            "zh-CN": "令牌不变,未隐匿的记录照常关联。被隐匿的记录只从自己的表中删除:"
            "其他表中引用它们的行仍保留令牌,但在数据包内找不到对应记录"
            "(内连接会丢掉这些行,左连接得到空值);拒绝交付的表的所有引用都是如此。",
            "en": "Tokens are unchanged and records not suppressed join as before. A suppressed "
            "record is removed from its own table only: rows of other tables that reference it "
            "keep their token but find no record in the extract (an inner join drops them, a "
            "left join gives nulls); so do all references into a refused table.",
        },
        "deid.report.joins_head": {
            "zh-CN": "| 引用列 | 指向的表 | 引用了被隐匿或拒绝交付记录的行数 |",
            "en": "| referencing column | table referenced | rows referencing a suppressed or "
            "refused record |",
        },
        "deid.report.joins_none": {
            "zh-CN": "没有任何行引用被隐匿或拒绝交付的记录。",
            "en": "No row references a suppressed or refused record.",
        },
        "deid.report.plain": {
            "zh-CN": "不含所选准标识符的表(原样交付,不作 k-匿名评估):{tables}。",
            "en": "Tables without any of the chosen quasi-identifiers (shipped as the rules "
            "leave them, no k-anonymity assessment): {tables}.",
        },
    }
)
