"""User-facing texts of sealing and unsealing, in zh-CN and English."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "demo.step.seal": {
            "zh-CN": "加密封装卖方数据并校验封装包",
            "en": "Seal the seller's data and check the package",
        },
        "demo.step.dd": {
            "zh-CN": "生成买方尽调去标识化数据包",
            "en": "Write the buyer's de-identified due-diligence extract",
        },
        "package.exists": {
            "zh-CN": "{path} 已存在;封装不会覆盖已有文件,请换一个 --out",
            "en": "{path} already exists; sealing never overwrites, choose another --out",
        },
        "package.no_tables": {
            "zh-CN": "源 {source} 中没有可封装的表",
            "en": "source {source} has no table to seal",
        },
        "package.source_reject": {
            "zh-CN": "源 {source} 表 {table} 键 {row_key} 字段 {column}:值与声明类型不符,无法原样封装",
            "en": "source {source} table {table} key {row_key} column {column}: value does not fit "
            "its declared type; the package could not hold it exactly",
        },
        "package.bad_column_name": {
            "zh-CN": "表 {table} 字段 {column}:名称含 Parquet 加密配置不允许的字符(,;:)",
            "en": "table {table} column {column}: the name holds a character Parquet "
            "encryption settings cannot carry (, ; :)",
        },
        "package.missing_file": {
            "zh-CN": "封装包 {package} 不完整:缺少 {file}",
            "en": "package {package} is incomplete: {file} is missing",
        },
        "package.unexpected_file": {
            "zh-CN": "封装包 {package} 含清单之外的文件 {file}",
            "en": "package {package} holds {file}, which the manifest does not list",
        },
        "package.bad_signature": {
            "zh-CN": "封装包 {package} 的清单签名无效(manifest.json 或 manifest.sig 被改动)",
            "en": "package {package}: the manifest signature does not verify "
            "(manifest.json or manifest.sig was altered)",
        },
        "package.untrusted_signer": {
            "zh-CN": "封装包 {package} 由本工作区不认识的签名密钥 {key_id} 签署",
            "en": "package {package} is signed by key {key_id}, which this workspace does not know",
        },
        "package.bad_manifest": {
            "zh-CN": "封装包 {package} 的清单无法解析(版本不符或格式错误)",
            "en": "package {package}: the manifest cannot be read (unknown version or malformed)",
        },
        "package.hash_mismatch": {
            "zh-CN": "封装包 {package} 的文件 {file} 与清单中的 SHA-256 不符(文件被改动)",
            "en": "package {package}: file {file} does not match its SHA-256 in the manifest "
            "(the file was altered)",
        },
        "package.key_destroyed": {
            "zh-CN": "封装包 {package} 无法打开:密钥 {key_id} 已于 {when} 销毁(密码擦除)",
            "en": "package {package} cannot be opened: key {key_id} was destroyed at {when} "
            "(cryptographic erase)",
        },
        "package.key_missing": {
            "zh-CN": "封装包 {package} 无法打开:本工作区没有密钥 {key_id}",
            "en": "package {package} cannot be opened: this workspace has no key {key_id}",
        },
        "package.decrypt_failed": {
            "zh-CN": "封装包 {package} 表 {table}:无法解密或认证失败(密钥错误或数据被改动)",
            "en": "package {package} table {table}: decryption or authentication failed "
            "(wrong key or altered data)",
        },
        "package.schema_mismatch": {
            "zh-CN": "封装包 {package} 表 {table}:文件结构与清单不符",
            "en": "package {package} table {table}: the file's schema differs from the manifest",
        },
        "package.rows_mismatch": {
            "zh-CN": "封装包 {package} 表 {table}:行数 {found} 与清单的 {expected} 不符",
            "en": "package {package} table {table}: {found} rows, the manifest says {expected}",
        },
        "package.digest_mismatch": {
            "zh-CN": "封装包 {package} 表 {table}:行摘要根与清单不符",
            "en": "package {package} table {table}: the row-digest root differs from the manifest",
        },
        "package.target_mismatch": {
            "zh-CN": "目标 {target} 表 {table}:写入后的{what}与封装包不符",
            "en": "target {target} table {table}: {what} after writing differs from the package",
        },
        "package.sealed": {
            "zh-CN": "已封装 {tables} 张表、{rows} 行 → {path}({mb:.1f} MB,{seconds:.1f} 秒)",
            "en": "Sealed {tables} tables, {rows} rows → {path} ({mb:.1f} MB, {seconds:.1f} s)",
        },
        "package.verified": {
            "zh-CN": "封装包 {path} 校验通过:签名、文件哈希、{tables} 张表 {rows} 行的行摘要均一致",
            "en": "Package {path} checks out: signature, file hashes and the row digests of "
            "{tables} tables, {rows} rows",
        },
        "package.unsealed": {
            "zh-CN": "已解封 {path} → {target}:{tables} 张表、{rows} 行,行数与摘要均已核对",
            "en": "Unsealed {path} → {target}: {tables} tables, {rows} rows, counts and digests "
            "checked",
        },
        "package.no_folder": {
            "zh-CN": "{path}:文件夹不存在",
            "en": "{path}: no such folder",
        },
        "package.no_table": {
            "zh-CN": "封装包 {package} 中没有表 {table!r}",
            "en": "package {package} has no table {table!r}",
        },
        "package.bad_digest_encoding": {
            "zh-CN": "{package}:未知的行摘要编码 {encoding!r}",
            "en": "{package}: unknown row digest encoding {encoding!r}",
        },
    }
)
