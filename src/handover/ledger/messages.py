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
        "ledger.column_forged": {
            "zh-CN": "ledger_entries 序号 {seq}:{column} 列与已哈希的记录正文不一致(该列被改动);"
            "请运行 handover audit verify",
            "en": "ledger_entries seq {seq}: column {column} differs from the hashed body "
            "(column changed); run handover audit verify",
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

# Where a finding of ``handover audit verify`` points (``Problem.place``).
add(
    {
        "ledger.where.entry": {
            "zh-CN": "ledger_entries 序号 {seq}",
            "en": "ledger_entries seq {seq}",
        },
        "ledger.where.checkpoint": {
            "zh-CN": "ledger_checkpoints id {id}(记录数 {size})",
            "en": "ledger_checkpoints id {id} (size {size})",
        },
        "ledger.where.node": {
            "zh-CN": "ledger_nodes 层 {level} 序号 {idx}",
            "en": "ledger_nodes level {level} index {idx}",
        },
        "ledger.where.head": {"zh-CN": "ledger_head", "en": "ledger_head"},
        "ledger.where.entries": {"zh-CN": "ledger_entries", "en": "ledger_entries"},
        "ledger.where.keys": {"zh-CN": "密钥登记表", "en": "key registry"},
        "ledger.where.file": {"zh-CN": "{path}", "en": "{path}"},
    }
)

# Findings of ``handover audit verify`` (``Problem.text``); ``--json`` keeps key, params
# and the English text.
add(
    {
        "ledger.problem.text": {"zh-CN": "{text}", "en": "{text}"},
        "ledger.problem.unexpected_seq": {
            "zh-CN": "序号异常(不是预期的下一个序号)",
            "en": "unexpected sequence number",
        },
        "ledger.problem.missing_one": {
            "zh-CN": "记录 {first} 缺失(已被删除,或其 seq 列被改动)",
            "en": "entry {first} missing (deleted, or its seq column changed)",
        },
        "ledger.problem.missing_span": {
            "zh-CN": "记录 {first}..{last} 缺失(已被删除,或其 seq 列被改动)",
            "en": "entries {first}..{last} missing (deleted, or their seq column changed)",
        },
        "ledger.problem.not_utf8": {
            "zh-CN": "记录正文不是 UTF-8 文本",
            "en": "body is not UTF-8 text",
        },
        "ledger.problem.moved": {
            "zh-CN": "seq 列与已哈希的正文不符:正文属于序号 {other}(被移动、调换、插入或 seq 列被改动)",
            "en": "column seq differs from the hashed body, which belongs to seq {other} "
            "(moved, swapped, inserted or seq changed)",
        },
        "ledger.problem.modified": {
            "zh-CN": "记录正文与其叶哈希不符(已被修改)",
            "en": "body does not match its leaf hash (modified)",
        },
        "ledger.problem.no_key": {
            "zh-CN": "账本没有可用于核验的公钥",
            "en": "ledger has no public key to check it with",
        },
        "ledger.problem.bad_signature": {
            "zh-CN": "签名验证失败:{reason}",
            "en": "signature does not verify: {reason}",
        },
        "ledger.problem.note_differs": {
            "zh-CN": "已签名的检查点与该行记录不一致",
            "en": "signed note differs from the row",
        },
        "ledger.problem.size_back": {
            "zh-CN": "记录数比前一个检查点({before})少",
            "en": "size goes back from {before}",
        },
        "ledger.problem.truncated": {
            "zh-CN": "检查点签署了 {signed} 条记录,日志现只有 {size} 条(已被截断)",
            "en": "signed {signed} entries but the log has {size} (truncated)",
        },
        "ledger.problem.root_mismatch": {
            "zh-CN": "记录重算出的哈希与签名的根哈希不一致",
            "en": "entries do not hash to the signed root",
        },
        "ledger.problem.foreign_checkpoint": {
            "zh-CN": "不是本账本签名的检查点:{reason}",
            "en": "not a checkpoint signed by this ledger: {reason}",
        },
        "ledger.problem.foreign_origin": {
            "zh-CN": "origin {origin} 不属于本账本",
            "en": "origin {origin} is not this ledger's",
        },
        "ledger.problem.not_extended": {
            "zh-CN": "当前日志不是该检查点({size} 条记录)的延续",
            "en": "the log does not extend this checkpoint of {size} entries",
        },
        "ledger.problem.bad_node": {
            "zh-CN": "节点缺失、被插入或格式错误",
            "en": "missing, inserted or malformed node",
        },
        "ledger.problem.node_differs": {
            "zh-CN": "记录 {first}..{last} 的已存储子树哈希不一致或缺失",
            "en": "stored subtree hash of entries {first}..{last} differs or is missing",
        },
        "ledger.problem.head_differs": {
            "zh-CN": "root 列(随该记录保存的树头)与重算结果不一致(root 列或该记录被改动)",
            "en": "column root (the tree head recorded with this entry) differs from the "
            "recomputed one (root or this entry changed)",
        },
        "ledger.problem.head_differs_span": {
            "zh-CN": "记录 {first}..{last} 的 root 列(随记录保存的树头)与重算结果不一致"
            "(记录 {first} 被修改、插入或重排,或这些 root 列被改动)",
            "en": "column root (the tree head recorded with entries {first}..{last}) differs "
            "from the recomputed one (entry {first} changed, inserted or reordered, or those "
            "roots changed)",
        },
        "ledger.problem.column": {
            "zh-CN": "{column} 列与已哈希的记录正文不一致(该列被改动)",
            "en": "column {column} differs from the hashed body (column changed)",
        },
        "ledger.problem.body_fields": {
            "zh-CN": "记录正文缺少 ts、actor、action 或 subject 文本,或 ts 格式不对",
            "en": "body lacks ts, actor, action or subject text, or its ts is malformed",
        },
        "ledger.problem.ts_back": {
            "zh-CN": "时间戳 {ts} 早于前一条记录的 {before}(账本时间只能向前)",
            "en": "stamped {ts}, earlier than the entry before it ({before}); stamps never go back",
        },
        "ledger.problem.unlisted": {
            "zh-CN": "另有 {count} 处记录问题未逐条列出",
            "en": "{count} more entry findings not listed",
        },
        "ledger.problem.no_head": {"zh-CN": "缺少树头行", "en": "the head row is missing"},
        "ledger.problem.head_truncated": {
            "zh-CN": "树头记录了 {head} 条记录,日志只有 {size} 条(已被截断)",
            "en": "head records {head} entries, the log has {size} (truncated)",
        },
        "ledger.problem.beyond_head": {
            "zh-CN": "记录 {first}..{last} 超出树头记录的范围(被插入)",
            "en": "entries {first}..{last} are beyond the recorded head (inserted)",
        },
        "ledger.problem.frontier": {
            "zh-CN": "树头的 frontier 与记录不一致",
            "en": "frontier differs from entries",
        },
        "ledger.problem.foreign_key": {
            "zh-CN": "树头中的公钥不是本工作区签名密钥的任何版本",
            "en": "public key is not a version of the workspace signing key",
        },
    }
)

# Why a signed note or checkpoint does not open (``NoteError.text``).
add(
    {
        "ledger.note.bad_name": {
            "zh-CN": "密钥名 {name!r} 不能为空,且不得含空格或“+”",
            "en": "key name {name!r} must be non-empty, without spaces or '+'",
        },
        "ledger.note.malformed_vkey": {
            "zh-CN": "verifier key 格式错误",
            "en": "malformed verifier key",
        },
        "ledger.note.vkey_not_ed25519": {
            "zh-CN": "verifier key 不是 Ed25519 公钥",
            "en": "verifier key is not an Ed25519 key",
        },
        "ledger.note.vkey_hash": {
            "zh-CN": "verifier key 的哈希与其名称和公钥不符",
            "en": "verifier key hash does not match its name and key",
        },
        "ledger.note.bad_text": {
            "zh-CN": "签名注记(note)的正文必须以换行结尾,且不含空行",
            "en": "note text must end with a newline and contain no blank line",
        },
        "ledger.note.no_sig_block": {
            "zh-CN": "签名注记格式错误:没有签名块",
            "en": "malformed note: no signature block",
        },
        "ledger.note.bad_sig_line": {
            "zh-CN": "签名注记格式错误:签名行无效",
            "en": "malformed note: bad signature line",
        },
        "ledger.note.sig_not_b64": {
            "zh-CN": "签名注记格式错误:签名不是 base64",
            "en": "malformed note: signature is not base64",
        },
        "ledger.note.invalid_sig": {
            "zh-CN": "密钥 {name} 的签名无效",
            "en": "invalid signature for key {name}",
        },
        "ledger.note.no_sig": {
            "zh-CN": "没有密钥 {keys} 的签名",
            "en": "no signature by key {keys}",
        },
        "ledger.note.no_sig_no_key": {
            "zh-CN": "没有密钥 {name} 的签名(未提供公钥)",
            "en": "no signature by key {name} (no key given)",
        },
        "ledger.note.cp_lines": {
            "zh-CN": "检查点格式错误:需要 origin、记录数和根哈希三行",
            "en": "malformed checkpoint: needs origin, size and root lines",
        },
        "ledger.note.cp_size": {
            "zh-CN": "检查点格式错误:origin 行或记录数行无效",
            "en": "malformed checkpoint: bad origin or size line",
        },
        "ledger.note.cp_root_b64": {
            "zh-CN": "检查点格式错误:根哈希不是 base64",
            "en": "malformed checkpoint: root is not base64",
        },
        "ledger.note.cp_root_len": {
            "zh-CN": "检查点格式错误:根哈希不是 32 字节",
            "en": "malformed checkpoint: root is not 32 bytes",
        },
    }
)
