"""User-facing texts of ``handover migrate`` in zh-CN and English."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "migrate.no_backup_needs_reason": {
            "zh-CN": "--no-backup 需要 --reason 说明理由(理由将记入台账)",
            "en": "--no-backup needs --reason TEXT (the reason is recorded in the ledger)",
        },
        "migrate.target_has_table": {
            "zh-CN": "目标库已有表 {table};迁移只写入空库(或用 --resume 继续未完成的运行)",
            "en": "target already has table {table}; migrate only fills an empty schema "
            "(or continue an unfinished run with --resume)",
        },
        "migrate.target_busy": {
            "zh-CN": "目标库中有未完成的迁移运行 {run};请用 --resume {run} 继续",
            "en": "the target holds the unfinished migration run {run}; continue it with "
            "--resume {run}",
        },
        "migrate.no_run": {
            "zh-CN": "没有可继续的迁移运行",
            "en": "there is no unfinished migration run to resume",
        },
        "migrate.unknown_run": {
            "zh-CN": "没有迁移运行 {run}",
            "en": "no migration run {run}",
        },
        "migrate.run_finished": {
            "zh-CN": "迁移运行 {run} 已结束(状态 {status}),无需继续",
            "en": "migration run {run} has already finished (status {status})",
        },
        "migrate.needs_source_target": {
            "zh-CN": "请给出 SOURCE 和 TARGET(或用 --resume 继续一个运行)",
            "en": "give SOURCE and TARGET (or --resume a run)",
        },
        "migrate.count_mismatch": {
            "zh-CN": "表 {table} 行数不符:源 {source} 行,目标 {target} 行 + 拒绝 {rejects} 行",
            "en": "table {table} does not reconcile: source {source} rows, target {target} "
            "rows + {rejects} rejected",
        },
        "migrate.rejects_failed": {
            "zh-CN": "迁移运行 {run}:{rejects} 行被目标库拒绝(允许 {allowed} 行),见 {file}",
            "en": "migration run {run}: {rejects} rows refused by the target ({allowed} "
            "allowed); see {file}",
        },
        "migrate.constraint_failed": {
            "zh-CN": "迁移运行 {run}:{count} 个约束或索引未能创建(首个:{first})",
            "en": "migration run {run}: {count} constraints or indexes could not be created "
            "(first: {first})",
        },
        "migrate.summary": {
            "zh-CN": "迁移运行 {run} 完成:{tables} 张表,{rows} 行,拒绝 {rejects} 行,"
            "{seconds:.1f} 秒({rate:,.0f} 行/秒)",
            "en": "migration run {run} finished: {tables} tables, {rows} rows, {rejects} "
            "rejected, {seconds:.1f} s ({rate:,.0f} rows/s)",
        },
        "migrate.no_backup_note": {
            "zh-CN": "未做备份(理由:{reason})",
            "en": "no backup taken (reason: {reason})",
        },
        "migrate.phase.schema": {"zh-CN": "创建目标表", "en": "creating target tables"},
        "migrate.phase.constraints": {
            "zh-CN": "创建唯一约束、索引与外键",
            "en": "creating unique constraints, indexes and foreign keys",
        },
        "migrate.col.table": {"zh-CN": "表", "en": "table"},
        "migrate.col.rows": {"zh-CN": "行数", "en": "rows"},
        "migrate.col.rejects": {"zh-CN": "拒绝", "en": "rejected"},
        "migrate.col.seconds": {"zh-CN": "秒", "en": "seconds"},
        "demo.step.migrate": {
            "zh-CN": "将卖方数据库迁移到买方数据库",
            "en": "Migrate the seller's database into the buyer's",
        },
        "demo.migrate.done_backup": {
            "zh-CN": "已迁移 {tables} 张表、{rows} 行到 {target}({seconds:.1f} 秒);迁移前已封装备份 {package}",
            "en": "Migrated {tables} tables, {rows} rows into {target} ({seconds:.1f} s); "
            "a sealed backup was taken first: {package}",
        },
        "migrate.role.source": {"zh-CN": "源库", "en": "source"},
        "migrate.role.target": {"zh-CN": "目标库", "en": "target"},
        "migrate.bad_batch_size": {
            "zh-CN": "--batch-size 至少为 1",
            "en": "--batch-size must be at least 1",
        },
        "migrate.no_target_folder": {
            "zh-CN": "目标 {target}:文件夹 {folder} 不存在",
            "en": "target {target}: folder {folder} does not exist",
        },
        "migrate.bad_url": {
            "zh-CN": "{role} {url}:无法使用此 URL({reason})",
            "en": "{role} {url}: cannot use this URL ({reason})",
        },
        "migrate.unreachable": {
            "zh-CN": "{role} {url} 无法连接:{reason}",
            "en": "{role} {url} is unreachable: {reason}",
        },
        "migrate.no_source_file": {
            "zh-CN": "源库 {path}:SQLite 文件不存在",
            "en": "source {path}: no such SQLite file",
        },
        "migrate.not_database": {
            "zh-CN": "源库 {source}:不是数据库",
            "en": "source {source}: not a database",
        },
        # notes of a run (``MigrateResult.notes``): how dates and times are spelt
        "migrate.note.as_text": {
            "zh-CN": "{column}:取值的写法不止一种(有无小数秒、以 T 分隔、带时区后缀等),"
            "以源库存储的原文本写入文本类型列;SQLite 声明类型记在列注释中,迁回 SQLite 时原样恢复",
            "en": "{column}: its values are not all spelt one way (with and without a "
            "fraction, a 'T', a zone suffix …): written as the stored text into a text "
            "column; the SQLite declared type is kept in the column comment for a copy back",
        },
        "migrate.note.spelling": {
            "zh-CN": "日期时间按源库自身的写法 {spelling} 写入 SQLite:{columns}",
            "en": "dates and times written to SQLite in the source's own spelling "
            "{spelling}: {columns}",
        },
        "migrate.note.spelling_chosen": {
            "zh-CN": "源中没有记录写法,日期时间按 {spelling} 写入 SQLite"
            "(小数秒仅在非零时写出,不带末尾的 0):{columns}",
            "en": "no spelling recorded: dates and times written to SQLite as {spelling} "
            "(a fraction only when it is not zero, without trailing zeros): {columns}",
        },
        "migrate.note.spelling_recorded": {
            "zh-CN": "SQLite 中写作 {spelling} 的文本按日期时间类型存储,写法记在列注释中"
            "(迁回 SQLite 得到相同文本):{columns}",
            "en": "SQLite text spelt {spelling} stored as typed dates/times; the spelling "
            "is kept in the column comment (a copy back to SQLite gives the same text): "
            "{columns}",
        },
    }
)
