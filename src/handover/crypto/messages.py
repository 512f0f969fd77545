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
    }
)
