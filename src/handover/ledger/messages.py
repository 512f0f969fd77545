"""User-facing texts of the ledger, in zh-CN and English.

Only what a person reads on the screen; ledger bodies and event details stay as recorded.
"""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "ledger.not_finite": {
            "zh-CN": "账本 {where}:非有限数值(NaN 或无穷大)不能写入 JSON",
            "en": "ledger {where}: non-finite number is not JSON",
        },
        "ledger.key_not_text": {
            "zh-CN": "账本 {where}:键 {name!r} 不是文本",
            "en": "ledger {where}: key {name!r} is not text",
        },
        "ledger.not_json": {
            "zh-CN": "账本 {where}:{kind} 类型的值不是 JSON 数据",
            "en": "ledger {where}: a {kind} is not JSON data",
        },
        "ledger.int_too_big": {
            "zh-CN": "账本 details:整数 {value} 超过 2^53,请改为文本存储",
            "en": "ledger details: integer {value} exceeds 2^53; store it as text",
        },
        "ledger.lone_surrogate": {
            "zh-CN": "账本记录正文:文本含孤立代理码位(lone surrogate),不是有效的 Unicode",
            "en": "ledger body: text contains a lone surrogate, not valid Unicode",
        },
        "ledger.naive_clock": {
            "zh-CN": "账本时钟返回了不带时区的时间;时间必须带时区",
            "en": "ledger clock returned a naive datetime; it must be timezone-aware",
        },
        "ledger.no_head": {
            "zh-CN": "ledger_head:缺少树头行(id 1)",
            "en": "ledger_head: the head row (id 1) is missing",
        },
        "ledger.store_busy": {
            "zh-CN": "账本:存储繁忙或无法连接({reason})",
            "en": "ledger: store busy or unreachable ({reason})",
        },
        "ledger.bad_action": {
            "zh-CN": "账本操作名 {action!r}:请使用以点分隔的小写单词,例如 scan.done",
            "en": "ledger action {action!r}: use dotted lower-case words like scan.done",
        },
        "ledger.field_not_text": {
            "zh-CN": "账本字段 {field}:必须是文本",
            "en": "ledger {field}: must be text",
        },
        "ledger.field_too_long": {
            "zh-CN": "账本字段 {field}:超过 {limit} 个字符",
            "en": "ledger {field}: longer than {limit} characters",
        },
        "ledger.details_not_mapping": {
            "zh-CN": "账本 details:必须是键值映射",
            "en": "ledger details: must be a mapping",
        },
        "ledger.node_missing": {
            "zh-CN": "ledger_nodes:缺少已存储的节点(层 {level},序号 {idx},对应记录 "
            "{first}..{last});请运行 handover audit verify",
            "en": "ledger_nodes: stored node level {level} index {idx} is missing "
            "(entries {first}..{last}); run handover audit verify",
        },
        "ledger.no_entry": {
            "zh-CN": "ledger_entries:没有序号为 {seq} 的记录",
            "en": "ledger_entries: no entry with seq {seq}",
        },
        "ledger.entry_unproven": {
            "zh-CN": "ledger_entries 序号 {seq}:已存储的哈希无法证明该记录;"
            "请运行 handover audit verify",
            "en": "ledger_entries seq {seq}: stored hashes do not prove this entry; "
            "run handover audit verify",
        },
        "ledger.checkpoint_unreadable": {
            "zh-CN": "ledger_checkpoints id {id}:{reason};拒绝签署;请运行 handover audit verify",
            "en": "ledger_checkpoints id {id}: {reason}; refusing to sign; "
            "run handover audit verify",
        },
        "ledger.shrank": {
            "zh-CN": "ledger_head:日志从 {before} 条记录缩减为 {after} 条;拒绝签署;"
            "请运行 handover audit verify",
            "en": "ledger_head: the log shrank from {before} to {after} entries; "
            "refusing to sign; run handover audit verify",
        },
        "ledger.frontier_differs": {
            "zh-CN": "ledger_head:树头的 frontier 与已存储的树不一致;拒绝签署;"
            "请运行 handover audit verify",
            "en": "ledger_head: frontier differs from the stored tree; refusing to sign; "
            "run handover audit verify",
        },
        "ledger.not_extending": {
            "zh-CN": "ledger_checkpoints id {id}:当前日志已不再延续该检查点;拒绝签署;"
            "请运行 handover audit verify",
            "en": "ledger_checkpoints id {id}: the log no longer extends it; "
            "refusing to sign; run handover audit verify",
        },
        "ledger.checkpoint_write": {
            "zh-CN": "{path}:无法写入检查点({reason})",
            "en": "{path}: cannot write the checkpoint ({reason})",
        },
        "ledger.checkpoint_read": {
            "zh-CN": "{path}:无法读取检查点({reason})",
            "en": "{path}: cannot read the checkpoint ({reason})",
        },
        "ledger.seq_outside": {
            "zh-CN": "ledger_entries:序号 {seq} 超出日志范围(0..{last})",
            "en": "ledger_entries: seq {seq} is outside the log (0..{last})",
        },
        "ledger.root_differs": {
            "zh-CN": "ledger_checkpoints id {id}:在 {size} 条记录处,根哈希与已存储的树不一致;"
            "请运行 handover audit verify",
            "en": "ledger_checkpoints id {id}: root differs from the stored tree "
            "at size {size}; run handover audit verify",
        },
        "ledger.no_checkpoint": {
            "zh-CN": "账本尚无已签名的检查点;请运行 handover audit checkpoint",
            "en": "ledger has no signed checkpoint yet; run handover audit checkpoint",
        },
        "ledger.tampered": {
            "zh-CN": "账本已被篡改:第一条异常记录序号 {seq}:{problem}",
            "en": "ledger tampered: first bad entry seq {seq}: {problem}",
        },
        "ledger.tampered_more": {
            "zh-CN": "账本已被篡改:第一条异常记录序号 {seq}:{problem}(另有 {more} 处问题)",
            "en": "ledger tampered: first bad entry seq {seq}: {problem} (+{more} more)",
        },
        "ledger.check_failed": {
            "zh-CN": "账本校验未通过:{where}:{problem}",
            "en": "ledger check failed: {where}: {problem}",
        },
        "ledger.check_failed_more": {
            "zh-CN": "账本校验未通过:{where}:{problem}(另有 {more} 处问题)",
            "en": "ledger check failed: {where}: {problem} (+{more} more)",
        },
        "ledger.export_exists": {
            "zh-CN": "{path}:已存在且不是空文件夹",
            "en": "{path}: exists and is not an empty folder",
        },
        "ledger.export_count": {
            "zh-CN": "ledger_entries:检查点覆盖 {size} 条记录,实际读到 {count} 条;"
            "请运行 handover audit verify",
            "en": "ledger_entries: {count} entries under checkpoint of {size}; "
            "run handover audit verify",
        },
        "ledger.export_changed": {
            "zh-CN": "导出期间账本发生了变化;请运行 handover audit verify",
            "en": "ledger changed during export; run handover audit verify",
        },
    }
)
