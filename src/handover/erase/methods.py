"""The sanitization methods per medium, in NIST SP 800-88 Rev. 1 vocabulary, with limits.

Every method says what it does (``steps``), which NIST category it reaches at best
(``clear``: logical techniques through the normal interface; ``purge``: infeasible
recovery even in a laboratory; ``cryptographic_erase``: destroying the keys of encrypted
data, a purge technique when the keys were never exported) and what it cannot reach
(``limits``). The certificate quotes both, so it never claims more than was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Method:
    """A sanitization method: its NIST category, steps and limits, in both languages."""

    key: str
    nist: str
    zh: str
    en: str
    limits: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Certificate form (texts of the limits included, so the file stands alone)."""
        return {
            "key": self.key,
            "nist_sp800_88": self.nist,
            "zh-CN": self.zh,
            "en": self.en,
            "limits": [limit_json(k) for k in self.limits],
        }


LIMITS: dict[str, tuple[str, str]] = {
    "ssd": (
        "固态硬盘(SSD)的磨损均衡与预留空间会把旧数据留在逻辑地址之外的闪存块中,文件系统层面的覆写无法触及;介质级清除需要设备自带的安全擦除/加密擦除命令。",
        "SSD wear levelling and over-provisioning keep old data in flash blocks outside the logical addresses; file-level overwrites cannot reach them. Media-level purge needs the drive's own sanitize/crypto-erase command.",
    ),
    "cow": (
        "写时复制文件系统(btrfs、ZFS、APFS)与快照会保留旧数据块;覆写写入的是新块。",
        "Copy-on-write file systems (btrfs, ZFS, APFS) and snapshots keep the old blocks; an overwrite writes new ones.",
    ),
    "journal_fs": (
        "带数据日志的文件系统(如 ext4 data=journal)可能在日志区留有旧数据副本。",
        "Journaling file systems with data journaling (e.g. ext4 data=journal) may hold old copies in the journal.",
    ),
    "sqlite_wal": (
        "SQLite:secure_delete 以零覆盖被释放的单元与页面;在 WAL 模式下执行,回滚日志不会保存原始页面;检查点后 WAL 被截断,截断前的旧帧块交还文件系统,未被逐块覆写(除被新帧覆盖的部分)。",
        "SQLite: secure_delete overwrites freed cells and pages with zeros; the change runs in WAL mode so no rollback journal holds original pages; after the checkpoint the WAL is truncated, and old frame blocks go back to the file system without being overwritten (except where new frames overwrote them).",
    ),
    "sqlite_side": (
        "若文件原处于 WAL 模式,切换日志模式时 SQLite 把 -wal 写回主文件(随后一并被覆写)并删除 -wal;-wal 的旧块交还文件系统,未被逐块覆写。中途中断的覆写会留下 SQLite 无法打开的文件:以 handover shred --path 覆写并删除它。",
        "If the file was in WAL mode, switching the journal mode makes SQLite copy the -wal into the file (overwritten with it) and remove the -wal; the -wal's old blocks go back to the file system without being overwritten. An interrupted overwrite leaves a file SQLite cannot open: overwrite and remove it with handover shred --path.",
    ),
    "db_wal": (
        "数据库服务器的预写日志(PostgreSQL WAL、MariaDB redo/undo 日志、binlog、双写缓冲)与已归档的日志仍可能含有被删除的数据,直到被循环覆盖或清理。",
        "The server's write-ahead logs (PostgreSQL WAL, MariaDB redo/undo logs, binlog, doublewrite buffer) and archived logs may still contain the deleted data until recycled or purged.",
    ),
    "replicas_backups": (
        "副本、备份、快照与导出件不在本次方法的作用范围内,须分别销毁并单独出具证明。",
        "Replicas, backups, snapshots and exports are outside this method's reach; they must be destroyed separately, with their own certificates.",
    ),
    "freed_space": (
        "数据库重写后释放的旧数据文件空间未被覆写(仅被文件系统回收)。",
        "Space of the old data files freed by the rewrite is not overwritten (only returned to the file system).",
    ),
    "key_copies": (
        "加密擦除仅在密钥从未以明文导出、且所有备份中的密钥副本同样被销毁时有效。",
        "Cryptographic erase holds only if the keys were never exported in clear and every backed-up copy of them is destroyed too.",
    ),
    "hsm": (
        "PKCS#11 HSM 中的密钥由 HSM 的销毁操作删除;其内部介质的清除依赖 HSM 厂商的实现。",
        "Keys in a PKCS#11 HSM are deleted by the HSM's destroy operation; sanitization of its internal storage depends on the vendor.",
    ),
}


def limit_json(key: str) -> dict[str, str]:
    """A limit in both languages."""
    zh, en = LIMITS[key]
    return {"key": key, "zh-CN": zh, "en": en}


METHODS: dict[str, Method] = {
    m.key: m
    for m in (
        Method(
            "sqlite.secure_delete",
            "clear",
            "PRAGMA secure_delete=ON;在 WAL 模式下 DELETE/DROP TABLE;VACUUM 重建文件;"
            "PRAGMA wal_checkpoint(TRUNCATE) 截断 -wal;恢复原日志模式",
            "PRAGMA secure_delete=ON; DELETE/DROP TABLE in WAL mode; VACUUM rebuilds the file; "
            "PRAGMA wal_checkpoint(TRUNCATE) empties the -wal; the original journal mode is restored",
            ("sqlite_wal", "ssd", "cow", "journal_fs", "replicas_backups"),
        ),
        Method(
            "sqlite.overwrite",
            "clear",
            "库中每张表都销毁时:独占锁定文件(WAL 模式先切换为 DELETE);以零原位覆写整个文件(及残留的 -journal),"
            "fsync,回读校验全为零;截断为空,再写成保留原页面大小、编码与版本号的空数据库",
            "every table of the file goes: the file is locked exclusively (a WAL file is first switched to "
            "DELETE mode); the whole file (and any -journal left) is overwritten in place with zeros, "
            "fsynced, read back and checked to be all zeros; truncated to nothing, then written again "
            "as an empty database with the page size, encoding and version numbers it had",
            ("sqlite_side", "ssd", "cow", "journal_fs", "replicas_backups"),
        ),
        Method(
            "postgresql.vacuum_full",
            "clear",
            "DELETE 或 DROP TABLE(CASCADE);对保留行的表执行 VACUUM FULL 重写数据文件;尝试 CHECKPOINT",
            "DELETE or DROP TABLE (CASCADE); VACUUM FULL rewrites the data files of tables that keep rows; CHECKPOINT when permitted",
            ("db_wal", "freed_space", "replicas_backups", "ssd", "cow"),
        ),
        Method(
            "mariadb.optimize",
            "clear",
            "DELETE 或 DROP TABLE;对保留行的表执行 OPTIMIZE TABLE 重建表空间",
            "DELETE or DROP TABLE; OPTIMIZE TABLE rebuilds the tablespace of tables that keep rows",
            ("db_wal", "freed_space", "replicas_backups", "ssd", "cow"),
        ),
        Method(
            "file.overwrite",
            "clear",
            "以随机数据原位覆写整个文件,fsync,回读校验,改为随机文件名后删除,并 fsync 目录",
            "overwrite the whole file in place with random bytes, fsync, read back and check, rename to a random name, unlink, fsync the folder",
            ("ssd", "cow", "journal_fs", "replicas_backups"),
        ),
        Method(
            "key.crypto_erase",
            "cryptographic_erase",
            "通过 handover.crypto 销毁密钥的全部版本(密钥环条目覆写删除或 HSM 对象销毁),保留墓碑记录",
            "destroy every version of the key through handover.crypto (keyring entry overwritten and unlinked, or HSM object destroyed); a tombstone is kept",
            ("key_copies", "hsm", "ssd", "cow"),
        ),
        Method(
            "retain.freeze",
            "none",
            "按保留规则保留,冻结访问(记入账本;PostgreSQL 上 REVOKE ALL FROM PUBLIC)",
            "kept under a retention rule, access frozen (ledgered; REVOKE ALL FROM PUBLIC on PostgreSQL)",
            (),
        ),
    )
}


def method_for_dialect(dialect: str, *, whole: bool = False) -> Method:
    """The table/row method of a database dialect; with ``whole`` (every table of the
    database goes), its whole-database method where it has one."""
    from handover.db import dialects

    d = dialects.get(dialect)
    return METHODS[(d.sanitization_whole if whole else None) or d.sanitization]
