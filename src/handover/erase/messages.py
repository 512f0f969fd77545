"""User-facing texts of ``handover shred`` and ``handover certificate`` (zh-CN and en)."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "erase.gate.none": {
            "zh-CN": "拒绝销毁 {source}:账本中没有该数据源的迁移校验(handover verify)记录;请先校验,或使用 --force --reason 说明理由",
            "en": "refusing to shred {source}: the ledger holds no verify (handover verify) of this source; verify first, or use --force --reason",
        },
        "erase.gate.failed": {
            "zh-CN": "拒绝销毁 {source}:最近一次校验(账本序号 {seq})未通过;请修复差异并重新校验,或使用 --force --reason",
            "en": "refusing to shred {source}: the latest verify (ledger seq {seq}) did not pass; fix the differences and verify again, or use --force --reason",
        },
        "erase.gate.uncovered": {
            "zh-CN": "拒绝销毁:表 {table} 不在最近一次通过的校验(账本序号 {seq})范围内;请校验该表,或使用 --force --reason",
            "en": "refusing to shred: table {table} was not covered by the latest verify (ledger seq {seq}); verify it, or use --force --reason",
        },
        "erase.gate.reason": {
            "zh-CN": "--force 需要 --reason 说明理由(理由将记入账本与销毁证明)",
            "en": "--force needs --reason TEXT (the reason is recorded in the ledger and on the certificate)",
        },
        "erase.unknown.spec": {
            "zh-CN": "拒绝销毁:{what} {spec} 不属于本次交接(本工作区账本中没有对它的扫描、封装、迁移、校验或销毁记录);请核对对象,或使用 --force --reason 说明理由;未做任何更改",
            "en": "refusing to shred: {what} {spec} is unknown to this transfer (this workspace's ledger has no scan, seal, migrate, verify or shred of it); check the name, or use --force --reason; nothing was changed",
        },
        "erase.unknown.missing": {
            "zh-CN": "拒绝销毁:{what} {spec} 不存在,没有可销毁的对象;未做任何更改",
            "en": "refusing to shred: {what} {spec} does not exist, there is nothing to destroy; nothing was changed",
        },
        "erase.dual.names": {
            "zh-CN": "双人控制:请用 --executed-by 与 --validated-by 给出执行人和复核人的姓名",
            "en": "dual control: name the executor and the validator with --executed-by and --validated-by",
        },
        "erase.dual.same": {
            "zh-CN": "拒绝销毁:执行人与复核人不能是同一人({name})",
            "en": "refusing to shred: the executor and the validator must be different people ({name} is both)",
        },
        "erase.dual.executor": {
            "zh-CN": "双人控制:请登录或用 --executed-by 指定执行人",
            "en": "dual control: log in or name the executor with --executed-by",
        },
        "erase.dual.validator": {
            "zh-CN": "双人控制:请用 --validated-by 指定复核人(须为审计、合规、个人信息保护负责人或审批角色)",
            "en": "dual control: name the validator with --validated-by (an auditor, compliance officer, DPO or approver)",
        },
        "erase.dual.not_you": {
            "zh-CN": "拒绝销毁:执行人须为当前登录人员({me}),不能以 {name} 的名义执行",
            "en": "refusing to shred: the executor is the logged-in person ({me}), not {name}",
        },
        "erase.dual.inactive": {
            "zh-CN": "拒绝销毁:{name} 已停用",
            "en": "refusing to shred: {name} is deactivated",
        },
        "erase.dual.role": {
            "zh-CN": "拒绝销毁:复核人 {name} 不具备复核角色({roles} 之一)",
            "en": "refusing to shred: validator {name} holds none of the roles {roles}",
        },
        "erase.plan.title": {"zh-CN": "销毁计划", "en": "Shred plan"},
        "erase.plan.retained": {"zh-CN": "保留(冻结访问)", "en": "Retained (access frozen)"},
        "erase.col.medium": {"zh-CN": "介质", "en": "medium"},
        "erase.col.subject": {"zh-CN": "对象", "en": "subject"},
        "erase.col.method": {"zh-CN": "方法", "en": "method"},
        "erase.col.nist": {"zh-CN": "NIST 800-88", "en": "NIST 800-88"},
        "erase.col.size": {"zh-CN": "行 / 字节", "en": "rows / bytes"},
        "erase.col.basis": {"zh-CN": "依据", "en": "basis"},
        "erase.col.until": {"zh-CN": "保留至", "en": "until"},
        "erase.gate.ok": {
            "zh-CN": "校验闸门:通过(账本序号 {seq})",
            "en": "Verify gate: passed (ledger seq {seq})",
        },
        "erase.gate.forced": {
            "zh-CN": "校验闸门:强制执行,理由已记录:{reason}",
            "en": "Verify gate: forced, reason recorded: {reason}",
        },
        "erase.gate.blocked": {
            "zh-CN": "校验闸门:未满足 — {problem}",
            "en": "Verify gate: not met — {problem}",
        },
        "erase.done": {
            "zh-CN": "销毁完成:{tables} 张表/{rows} 行,{files} 个文件({bytes} 字节),{keys} 个密钥加密擦除;抽样 {samples} 个标识符,发现 {found} 个;证明 {cert}",
            "en": "Shred done: {tables} tables / {rows} rows, {files} files ({bytes} bytes), {keys} keys crypto-erased; {samples} sampled identifiers searched, {found} found; certificate {cert}",
        },
        "erase.found": {
            "zh-CN": "销毁后校验失败:{found} 个抽样标识符仍可在剩余数据中找到(见证明 {cert})",
            "en": "post-shred verification failed: {found} sampled identifiers are still findable in what remains (see certificate {cert})",
        },
        "erase.cert.ok": {
            "zh-CN": "销毁证明有效:签名与 {proofs} 个账本包含证明均验证通过(签名密钥 {signer})",
            "en": "Certificate valid: the signature and {proofs} ledger inclusion proofs verify (signing key {signer})",
        },
        "erase.cert.bad": {
            "zh-CN": "销毁证明无效:{problem}",
            "en": "certificate invalid: {problem}",
        },
    }
)

# What ``handover certificate verify`` finds wrong (``CertificateCheck.findings``); ``--json``
# keeps the English text in ``problems`` and key/params in ``problem_details``.
add(
    {
        "erase.cert.problem.sig_malformed": {
            "zh-CN": "{sig}:签名文件格式错误",
            "en": "{sig}: malformed signature file",
        },
        "erase.cert.problem.sig_mismatch": {
            "zh-CN": "{file}:Ed25519 签名与文件内容不符",
            "en": "{file}: the Ed25519 signature does not match the file",
        },
        "erase.cert.problem.not_json": {
            "zh-CN": "{file}:不是 JSON",
            "en": "{file}: not JSON",
        },
        "erase.cert.problem.not_cert": {
            "zh-CN": "{file}:不是 handover 数据销毁证明",
            "en": "{file}: not a handover sanitization certificate",
        },
        "erase.cert.problem.signer_differs": {
            "zh-CN": "{file}:文件中记载的签名人与 {sig} 不一致",
            "en": "{file}: signer named inside differs from {sig}",
        },
        "erase.cert.problem.sig_record": {
            "zh-CN": "{sig}:不是 {file} 原样的签名记录",
            "en": "{sig}: not the exact signature record of {file}",
        },
        "erase.cert.problem.untrusted": {
            "zh-CN": "{sig}:签名密钥既不是本工作区的密钥,也不是 --key 指定的公钥",
            "en": "{sig}: signed by a key that is not the workspace's or the pinned key",
        },
        "erase.cert.problem.checkpoint": {
            "zh-CN": "账本检查点:{reason}",
            "en": "ledger checkpoint: {reason}",
        },
        "erase.cert.problem.ledger_malformed": {
            "zh-CN": "账本检查点:证明中的账本部分格式错误({detail})",
            "en": "ledger checkpoint: malformed ledger section ({detail})",
        },
        "erase.cert.problem.foreign_ledger": {
            "zh-CN": "账本检查点:由其他账本签署,不是本工作区的账本",
            "en": "ledger checkpoint: signed by another ledger than this workspace's",
        },
        "erase.cert.problem.origin_differs": {
            "zh-CN": "账本检查点:origin 与销毁证明中记载的不一致",
            "en": "ledger checkpoint: origin differs from the certificate's",
        },
        "erase.cert.problem.entry_malformed": {
            "zh-CN": "账本记录 {seq}:包含证明格式错误",
            "en": "ledger entry {seq}: malformed proof",
        },
        "erase.cert.problem.entry_unproven": {
            "zh-CN": "账本记录 {seq}:包含证明无法在该检查点上验证通过",
            "en": "ledger entry {seq}: inclusion proof does not verify against the checkpoint",
        },
        "erase.cert.problem.invalid": {
            "zh-CN": "签名无效",
            "en": "signature not valid",
        },
        # notes on plan items (``PlanItem.note_text``), shown in ``shred --plan``
        "erase.note.not_selected": {
            "zh-CN": "未选中(--tables)",
            "en": "not selected (--tables)",
        },
        "erase.note.store": {
            "zh-CN": "账本、个人信息资产清单、校验与销毁记录(不含明文个人信息)",
            "en": "ledger, inventory, verification and erase records (no clear personal data)",
        },
        "erase.note.signing_key": {
            "zh-CN": "工作区签名密钥:用于签署本销毁证明和账本检查点",
            "en": "workspace signing key: signs this certificate and the ledger checkpoints",
        },
        "erase.note.data_key": {
            "zh-CN": "用途 {purpose},后端 {backend}",
            "en": "purpose {purpose}, backend {backend}",
        },
    }
)

# errors raised by the library (``BadInput.msg(key, ...)``)
add(
    {
        "erase.key_pem": {
            "zh-CN": "--key {spec}:不是 PEM 格式的 Ed25519 公钥",
            "en": "--key {spec}: not an Ed25519 public key in PEM",
        },
        "erase.key_hex": {
            "zh-CN": "--key {spec}:不是十六进制或 PEM 格式的 Ed25519 公钥",
            "en": "--key {spec}: not a hex or PEM Ed25519 public key",
        },
        "erase.key_len": {
            "zh-CN": "--key {spec}:Ed25519 公钥应为 32 字节",
            "en": "--key {spec}: an Ed25519 public key has 32 bytes",
        },
        "erase.no_file": {"zh-CN": "{path}:文件不存在", "en": "{path}: no such file"},
        "erase.bad_url": {
            "zh-CN": "{flag}:不是有效的数据库 URL",
            "en": "{flag}: not a database URL",
        },
        "erase.no_sqlite": {
            "zh-CN": "{path}:SQLite 文件不存在",
            "en": "{path}: no such SQLite file",
        },
        "erase.not_sqlite": {
            "zh-CN": "{path}:不是 SQLite 数据库",
            "en": "{path}: not a SQLite database",
        },
        "erase.db_error": {
            "zh-CN": "{db}:数据库报错 {error}:{detail}",
            "en": "{db}: {error}: {detail}",
        },
        "erase.db_said": {
            "zh-CN": "{db}:数据库报错:{detail}",
            "en": "{db}: {detail}",
        },
        "erase.db_unsupported": {
            "zh-CN": "{db}:销毁仅支持 SQLite 文件、PostgreSQL 和 MariaDB/MySQL",
            "en": "{db}: shred supports SQLite files, PostgreSQL and MariaDB/MySQL",
        },
        "erase.connect": {
            "zh-CN": "无法连接 {url}({reason})",
            "en": "cannot connect to {url} ({reason})",
        },
        "erase.no_path": {
            "zh-CN": "{path}:文件或文件夹不存在",
            "en": "{path}: no such file or folder",
        },
        "erase.path_missing": {
            "zh-CN": "--path {path}:文件或文件夹不存在",
            "en": "--path {path}: no such file or folder",
        },
        "erase.media": {
            "zh-CN": "--media {medium} 无效;请使用:{media}",
            "en": "--media {medium}: use {media}",
        },
        "erase.no_table": {
            "zh-CN": "{db} 中不存在表 {table}",
            "en": "table {table} does not exist in {db}",
        },
        "erase.rule_no_table": {
            "zh-CN": "{origin}:留存规则 {rule}:{db} 中不存在表 {table}",
            "en": "{origin}: retention rule {rule}: table {table} does not exist in {db}",
        },
        "erase.retain_array": {
            "zh-CN": "{origin}:retain 必须是表数组([[erase.retain]])",
            "en": "{origin}: retain must be an array of tables ([[erase.retain]])",
        },
        "erase.rule_table": {
            "zh-CN": "{origin}:留存规则 {n} 必须是一个 TOML 表",
            "en": "{origin}: retention rule {n}: must be a table",
        },
        "erase.rule_field": {
            "zh-CN": "{origin}:留存规则 {n} 含未知字段「{field}」",
            "en": "{origin}: retention rule {n}: unknown field {field!r}",
        },
        "erase.rule_tables": {
            "zh-CN": "{origin}:留存规则 {n} 的 tables 必须是表名列表",
            "en": "{origin}: retention rule {n}: tables must be a list of table names",
        },
        "erase.rule_basis": {
            "zh-CN": "{origin}:留存规则 {n} 缺少留存依据 basis({bases} 之一,或一段文字说明)",
            "en": "{origin}: retention rule {n}: basis is required ({bases} or a text)",
        },
        "erase.rule_where": {
            "zh-CN": "{origin}:留存规则 {n} 的 where 必须是单个 SQL 条件(不得含 ';'、注释或写操作)",
            "en": "{origin}: retention rule {n}: where must be one SQL condition "
            "(no ';', comments or writes)",
        },
        "erase.rule_date": {
            "zh-CN": "{origin}:留存规则 {n} 的 {field}「{value}」不是日期(YYYY-MM-DD)",
            "en": "{origin}: retention rule {n} {field}: {value!r} is not a date (YYYY-MM-DD)",
        },
        "erase.rule_twice": {
            "zh-CN": "{origin}:留存规则 id「{id}」重复使用",
            "en": "{origin}: retention rule id {id!r} is used twice",
        },
        "erase.retention_missing": {
            "zh-CN": "{path}:留存规则文件不存在",
            "en": "{path}: no such retention file",
        },
        "erase.retention_toml": {
            "zh-CN": "{path}:无法读取或解析 TOML({detail})",
            "en": "{path}: unreadable TOML ({detail})",
        },
        "erase.passes": {"zh-CN": "--passes 至少为 1", "en": "--passes must be at least 1"},
        "erase.samples": {"zh-CN": "--samples 不能小于 0", "en": "--samples must be 0 or more"},
    }
)
