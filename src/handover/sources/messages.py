"""User-facing texts of the sources (errors and table notes), in zh-CN and English.

Errors are raised with :meth:`~handover.errors.HandoverError.msg`; table notes are kept
as :class:`~handover.i18n.Msg` so the scan stores them by key and shows them in the
reader's language. ``where`` values are themselves messages (``sources.at_*``).
"""

from __future__ import annotations

from handover.i18n import add

add(
    {
        # where an error happened (nested in other messages)
        "sources.at_table": {
            "zh-CN": "{source}:表 {table!r}",
            "en": "{source}: table {table!r}",
        },
        "sources.at_rows": {
            "zh-CN": "{source}:表 {table!r} 第 {start} 行起",
            "en": "{source}: table {table!r} rows {start}-",
        },
        "sources.near_row": {"zh-CN": " 第 {row} 行附近", "en": " near row {row}"},
        "sources.numeric": {"zh-CN": "数值", "en": "numeric"},
        # opening a source
        "sources.memory_sqlite": {
            "zh-CN": "{spec}:内存 SQLite 数据库中没有可扫描的内容",
            "en": "{spec}: in-memory SQLite has nothing to scan",
        },
        "sources.no_path": {
            "zh-CN": "{path}:文件或文件夹不存在",
            "en": "{path}: no such file or folder",
        },
        "sources.unknown_kind": {
            "zh-CN": "{path}:无法识别的文件类型(请使用 SQLite、CSV、XLSX 或 Parquet)",
            "en": "{path}: unknown kind of file (use SQLite, CSV, XLSX or Parquet)",
        },
        "sources.no_table": {
            "zh-CN": "{source}:没有表 {table!r}",
            "en": "{source}: no table {table!r}",
        },
        "sources.no_file": {"zh-CN": "{path}:文件不存在", "en": "{path}: no such file"},
        "sources.no_column": {
            "zh-CN": "{path}:没有列 {column!r}",
            "en": "{path}: no column {column!r}",
        },
        "sources.table_no_column": {
            "zh-CN": "{source}:表 {table!r} 没有列 {column!r}",
            "en": "{source}: table {table!r} has no column {column!r}",
        },
        # files
        "sources.bad_bytes": {
            "zh-CN": "{path}:第 {row} 行:字节既不是 UTF-8 也不是 GBK/GB18030 编码"
            "(请将文件另存为 UTF-8)",
            "en": "{path}: row {row}: bytes that are neither UTF-8 nor GBK/GB18030 "
            "(re-save the file as UTF-8)",
        },
        "sources.mixed_encoding": {
            "zh-CN": "{path}:第 {row} 行:字节不是有效的 {encoding} 编码(是否混用了多种编码?)",
            "en": "{path}: row {row}: bytes not valid {encoding} (mixed encodings?)",
        },
        "sources.bad_csv": {
            "zh-CN": "{path}:无法读取的 CSV 文件({kind})",
            "en": "{path}: unreadable CSV ({kind})",
        },
        "sources.bad_xlsx": {
            "zh-CN": "{path}:不是可读取的 XLSX 工作簿({kind})",
            "en": "{path}: not a readable XLSX workbook ({kind})",
        },
        "sources.sheet_no_column": {
            "zh-CN": "{path}:工作表 {sheet!r} 没有列 {column!r}",
            "en": "{path}: sheet {sheet!r} has no column {column!r}",
        },
        "sources.bad_parquet": {
            "zh-CN": "{path}:不是可读取的 Parquet 文件({kind})",
            "en": "{path}: not a readable Parquet file ({kind})",
        },
        "sources.empty_folder": {
            "zh-CN": "{path}:此文件夹中没有 CSV、XLSX 或 Parquet 文件",
            "en": "{path}: no CSV, XLSX or Parquet files in this folder",
        },
        "sources.duplicate_table": {
            "zh-CN": "{path}:表名 {table!r} 在 {folder} 中出现了两次",
            "en": "{path}: table name {table!r} appears twice in {folder}",
        },
        # databases
        "sources.no_sqlite": {
            "zh-CN": "{path}:SQLite 文件不存在",
            "en": "{path}: no such SQLite file",
        },
        "sources.bad_sqlite": {
            "zh-CN": "{path}:不是可读取的 SQLite 数据库({detail})",
            "en": "{path}: not a readable SQLite database ({detail})",
        },
        "sources.read_error": {
            "zh-CN": "{source}:表 {table!r}{near}:{what}",
            "en": "{source}: table {table!r}{near}: {what}",
        },
        "sources.bad_utf8_text": {
            "zh-CN": "有文本不是有效的 UTF-8",
            "en": "text that is not valid UTF-8",
        },
        "sources.bad_row": {"zh-CN": "有一行无法读取", "en": "an unreadable row"},
        "sources.unsupported_db": {
            "zh-CN": "{source}:不支持的数据库(请使用 SQLite、PostgreSQL、MySQL/MariaDB)",
            "en": "{source}: unsupported database (use SQLite, PostgreSQL, MySQL/MariaDB)",
        },
        "sources.unreachable": {
            "zh-CN": "{url}:无法连接数据库:{reason}",
            "en": "{url}: database unreachable: {reason}",
        },
        "sources.bad_type": {
            "zh-CN": "{where}:列 {column!r} 中有值不符合其类型 {type}",
            "en": "{where}: column {column!r} holds values that do not fit its type {type}",
        },
        # table notes (kept as messages; the scan stores them by key)
        "sources.note.encoding": {"zh-CN": "编码 {encoding}", "en": "encoding {encoding}"},
        "sources.note.delimiter": {
            "zh-CN": "分隔符 {delimiter!r}",
            "en": "delimiter {delimiter!r}",
        },
        "sources.note.no_header": {
            "zh-CN": "无表头行:列依次命名为 column_1 …",
            "en": "no header row: columns named column_1 …",
        },
        "sources.note.ragged": {
            "zh-CN": "已跳过 {n} 个字段数不符的行{first}:有 {fields} 个字段,应为 {expected} 个",
            "en": "{n} ragged rows skipped{first}: {fields} fields, expected {expected}",
        },
        "sources.note.first_at": {
            "zh-CN": "(首个在第 {row} 行)",
            "en": " (first at row {row})",
        },
        "sources.note.not_numeric": {
            "zh-CN": "列 {column!r}:{n} 个值不是 {type} 类型",
            "en": "column {column!r}: {n} values are not {type}",
        },
    }
)
