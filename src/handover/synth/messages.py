"""User-facing texts of the synthetic loan book generator (zh-CN and English)."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "synth.out_empty": {
            "zh-CN": "synth:--out 为空;请指定 .db 文件、数据库 URL 或文件夹",
            "en": "synth: --out is empty; give a .db file, a database URL or a folder",
        },
        "synth.bad_format": {
            "zh-CN": "synth {target}:--format 只能是 csv 或 xlsx,不能是「{fmt}」",
            "en": "synth {target}: --format must be csv or xlsx, not {fmt!r}",
        },
        "synth.sqlite_path": {
            "zh-CN": "synth {target}:SQLite URL 须包含文件路径",
            "en": "synth {target}: a SQLite URL needs a file path",
        },
        "synth.format_folder_only": {
            "zh-CN": "synth {target}:--format 仅适用于文件夹目标",
            "en": "synth {target}: --format applies to folder targets only",
        },
        "synth.unsupported_url": {
            "zh-CN": "synth {target}:不支持的数据库 URL(仅支持 PostgreSQL 或 MariaDB)",
            "en": "synth {target}: unsupported database URL (PostgreSQL or MariaDB)",
        },
        "synth.no_folder": {
            "zh-CN": "synth {target}:文件夹 {folder} 不存在",
            "en": "synth {target}: folder {folder} does not exist",
        },
        "synth.folder_readonly": {
            "zh-CN": "synth {target}:文件夹 {folder} 不可写",
            "en": "synth {target}: folder {folder} is not writable",
        },
        "synth.connect": {
            "zh-CN": "synth {url}:无法连接({reason})",
            "en": "synth {url}: cannot connect ({reason})",
        },
        "synth.db_not_empty": {
            "zh-CN": "synth {target}:数据库不为空(已有 {n} 张表);请使用空数据库",
            "en": "synth {target}: database is not empty ({n} tables); use an empty database",
        },
        "synth.customers": {
            "zh-CN": "synth {target}:客户数须在 1 到 {max:,} 之间,不能是 {customers}",
            "en": "synth {target}: customers must be between 1 and {max:,}, not {customers}",
        },
        "synth.seed": {
            "zh-CN": "synth {target}:seed 须为 0 到 2**63-1 之间的整数,不能是 {seed}",
            "en": "synth {target}: seed must be an integer from 0 to 2**63-1, not {seed}",
        },
        "synth.file_exists": {
            "zh-CN": "synth {target}:文件已存在;请删除该文件或另选目标",
            "en": "synth {target}: file already exists; remove it or choose another",
        },
        "synth.not_folder": {
            "zh-CN": "synth {target}:已存在且不是文件夹",
            "en": "synth {target}: exists and is not a folder",
        },
        "synth.folder_not_empty": {
            "zh-CN": "synth {target}:文件夹不为空;请选择空文件夹",
            "en": "synth {target}: folder is not empty; choose an empty folder",
        },
        "synth.xlsx_size": {
            "zh-CN": "synth {target}:XLSX 仅适用于中小规模(最多 {max:,} 名客户);请使用 --format csv",
            "en": "synth {target}: XLSX is for modest sizes (at most {max:,} customers); "
            "use --format csv",
        },
        "synth.xlsx_rows": {
            "zh-CN": "{folder}:表 {table} 超出 XLSX 行数上限;请使用 --format csv 或减少客户数",
            "en": "{folder}: table {table} exceeds the XLSX row limit; "
            "use --format csv or fewer customers",
        },
        "synth.write": {
            "zh-CN": "synth {target}:无法写入({error})",
            "en": "synth {target}: cannot write ({error})",
        },
        "synth.load_refused": {
            "zh-CN": "synth {target}:数据库拒绝了数据加载({error})",
            "en": "synth {target}: the database refused the load ({error})",
        },
    }
)
