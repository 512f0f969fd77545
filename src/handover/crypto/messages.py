"""User-facing texts of the crypto layer (zh-CN and English)."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "crypto.decryption_failed": {
            "zh-CN": "{what}:解密失败(密钥不对,或数据已被改动)",
            "en": "{what}: decryption failed (wrong key, or the data was altered)",
        },
        "crypto.key_destroyed": {
            "zh-CN": "密钥 {key_id} 已于 {when} 销毁(密码擦除),无法再使用",
            "en": "key {key_id} was destroyed at {when} (cryptographic erase) and cannot be used",
        },
        "crypto.no_signing_key": {
            "zh-CN": "工作区 {path} 还没有签名密钥:由登录的操作人运行一条命令即可创建",
            "en": "workspace {path} has no signing key yet: any command run by a person creates it",
        },
        "crypto.key_not_found": {
            "zh-CN": "工作区 {path} 中没有密钥 {key_id}",
            "en": "no key {key_id} in workspace {path}",
        },
        "crypto.keyring_unprotected": {
            "zh-CN": "{path}:密钥环主密钥没有保护。请设置 HANDOVER_KEYRING_PASSPHRASE,"
            '或在 handover.toml 中明确选择 key_protection = "file"(仅限受控的无人值守主机)',
            "en": "{path}: the keyring master key would be unprotected; set "
            'HANDOVER_KEYRING_PASSPHRASE, or choose key_protection = "file" explicitly in '
            "handover.toml (unattended, controlled hosts only)",
        },
        "crypto.keyring_needs_passphrase": {
            "zh-CN": "{path}:密钥环受口令保护;请设置 HANDOVER_KEYRING_PASSPHRASE",
            "en": "{path}: the keyring is passphrase-protected; set HANDOVER_KEYRING_PASSPHRASE",
        },
        "crypto.keyring_wrong_passphrase": {
            "zh-CN": "{path}:解不开密钥环主密钥(口令错误,或主密钥文件被改动)",
            "en": "{path}: cannot unlock the keyring master key (wrong passphrase, or the "
            "master key file was altered)",
        },
        "crypto.keyring_file_mode": {
            "zh-CN": "{path}:主密钥文件权限为 {mode},其他用户可读;请执行 chmod 600",
            "en": "{path}: master key file has mode {mode} and is readable by others; chmod 600 it",
        },
        "crypto.key_created": {
            "zh-CN": "已创建密钥 {key_id}(用途 {purpose},{algorithm},{backend})",
            "en": "Key {key_id} created (purpose {purpose}, {algorithm}, {backend})",
        },
        "crypto.key_rotated": {
            "zh-CN": "密钥 {key_id} 已轮换到第 {version} 版;旧版本仅用于解密旧数据",
            "en": "Key {key_id} rotated to version {version}; older versions only open old data",
        },
        "crypto.key_destroyed_ok": {
            "zh-CN": "密钥 {key_id} 已销毁(共 {versions} 个版本的密钥材料已擦除)",
            "en": "Key {key_id} destroyed ({versions} version(s) of key material erased)",
        },
        "crypto.confirm_destroy": {
            "zh-CN": "销毁密钥 {key_id}?用它加密的数据将永久无法解密",
            "en": "Destroy key {key_id}? Data encrypted under it can never be decrypted again",
        },
        "crypto.aborted": {"zh-CN": "已取消,未做任何更改", "en": "Aborted; nothing changed"},
        "crypto.columns": {
            "zh-CN": "密钥|用途|级别|算法|版本|状态|日期",
            "en": "key|purpose|tier|algorithm|ver|state|since",
        },
        "crypto.no_keys": {"zh-CN": "尚无密钥", "en": "No keys yet"},
        "crypto.keyring_protection_mismatch": {
            "zh-CN": "{path}:密钥环的保护方式为 {kind},但配置为 key_protection = {protection}",
            "en": "{path}: the keyring is protected by {kind}, but key_protection = {protection}",
        },
        "crypto.bad_key_ref": {
            "zh-CN": "密钥引用 {ref!r} 无效",
            "en": "bad key reference {ref!r}",
        },
        "crypto.key_exists": {
            "zh-CN": "{path}:密钥 {ref} 已存在",
            "en": "{path}: key {ref} already exists",
        },
        "crypto.keyring_meta_unreadable": {
            "zh-CN": "{path}:无法读取密钥环元数据({reason})",
            "en": "{path}: unreadable keyring metadata ({reason})",
        },
        "crypto.not_a_keyring": {
            "zh-CN": "{path}:不是 handover 密钥环",
            "en": "{path}: not a handover keyring",
        },
        "crypto.unknown_kdf": {
            "zh-CN": "未知的密钥环密钥派生算法(KDF){name!r}",
            "en": "unknown keyring KDF {name!r}",
        },
        "crypto.master_key_missing": {
            "zh-CN": "{path}:缺少密钥环主密钥文件",
            "en": "{path}: the keyring master key file is missing",
        },
        "crypto.pkcs11_no_token": {
            "zh-CN": "pkcs11:请设置 pkcs11_token_label 或 pkcs11_slot",
            "en": "pkcs11: set pkcs11_token_label or pkcs11_slot",
        },
        "crypto.pkcs11_needs_module": {
            "zh-CN": "key_backend = pkcs11 时必须设置 pkcs11_module(HANDOVER_PKCS11_MODULE)",
            "en": "key_backend = pkcs11 needs pkcs11_module (HANDOVER_PKCS11_MODULE)",
        },
        "crypto.pkcs11_needs_pin": {
            "zh-CN": "key_backend = pkcs11 时必须设置 pkcs11_pin(HANDOVER_PKCS11_PIN)",
            "en": "key_backend = pkcs11 needs pkcs11_pin (HANDOVER_PKCS11_PIN)",
        },
        "crypto.pkcs11_module_missing": {
            "zh-CN": "{module}:找不到 PKCS#11 模块",
            "en": "{module}: PKCS#11 module not found",
        },
        "crypto.pkcs11_module_load": {
            "zh-CN": "{module}:无法加载 PKCS#11 模块({reason})",
            "en": "{module}: cannot load PKCS#11 module ({reason})",
        },
        "crypto.pkcs11_token_missing": {
            "zh-CN": "{where}:{module} 中没有该令牌",
            "en": "{where}: no such token in {module}",
        },
        "crypto.pkcs11_pin_incorrect": {
            "zh-CN": "{where}:PIN 不正确",
            "en": "{where}: PIN incorrect",
        },
        "crypto.pkcs11_login": {
            "zh-CN": "{where}:无法登录({reason})",
            "en": "{where}: cannot log in ({reason})",
        },
        "crypto.pkcs11_label_exists": {
            "zh-CN": "{where}:标签为 {ref} 的对象已存在",
            "en": "{where}: an object labelled {ref} already exists",
        },
        "crypto.pkcs11_not_destroyed": {
            "zh-CN": "{where}:执行 C_DestroyObject 后密钥 {ref} 仍然存在",
            "en": "{where}: key {ref} is still present after C_DestroyObject",
        },
        "crypto.blob_invalid": {
            "zh-CN": "不是 handover 封装密钥",
            "en": "not a handover wrapped key",
        },
        "crypto.blob_truncated": {
            "zh-CN": "handover 封装密钥不完整(已被截断)",
            "en": "truncated handover wrapped key",
        },
        "crypto.registry_unreadable": {
            "zh-CN": "{path}:无法读取密钥登记表({reason})",
            "en": "{path}: unreadable key registry ({reason})",
        },
        "crypto.destroy_needs_reason": {
            "zh-CN": "销毁密钥必须填写原因",
            "en": "key destroy needs a reason",
        },
        "crypto.no_secret": {
            "zh-CN": "密钥 {key_id} 的版本 {version} 没有软件密钥材料",
            "en": "key {key_id} has no software secret for version {version}",
        },
        "crypto.bad_purpose": {
            "zh-CN": "密钥用途 {purpose!r}:请使用 1-32 个 a-z、0-9、_ 字符,且以字母开头",
            "en": "key purpose {purpose!r}: use 1-32 of a-z, 0-9, _ starting with a letter",
        },
        "crypto.bad_tier": {
            "zh-CN": "密钥级别 {tier!r}:请使用 C1、C2 或 C3",
            "en": "key tier {tier!r}: use C1, C2 or C3",
        },
        "crypto.parquet_dupe_keys": {
            "zh-CN": "{path}:列 {columns} 对应了多个密钥",
            "en": "{path}: columns {columns} have more than one key",
        },
        "crypto.parquet_no_key": {
            "zh-CN": "{path}:列 {columns} 没有加密密钥",
            "en": "{path}: columns {columns} have no encryption key",
        },
        "crypto.parquet_unknown_columns": {
            "zh-CN": "{path}:密钥清单中的列 {columns} 在表中不存在",
            "en": "{path}: key list names columns {columns} the table lacks",
        },
        "crypto.no_such_file": {
            "zh-CN": "{path}:文件不存在",
            "en": "{path}: no such file",
        },
        "crypto.parquet_write": {
            "zh-CN": "{path}:无法写入({reason})",
            "en": "{path}: cannot write ({reason})",
        },
        "crypto.token_length": {
            "zh-CN": "令牌长度 {hex_chars}:请使用 8 到 64 个十六进制字符",
            "en": "token length {hex_chars}: use 8 to 64 hex characters",
        },
        "crypto.wrong_purpose": {
            "zh-CN": "密钥 {key_id} 的用途是 {purpose},不是 {expected}",
            "en": "key {key_id} has purpose {purpose}, not {expected}",
        },
    }
)
