"""User-facing texts of ``handover shred`` and ``handover certificate`` (zh-CN and en)."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "erase.gate.none": {
            "zh-CN": "拒绝销毁 {source}:台账中没有该数据源的迁移校验(handover verify)记录;请先校验,或使用 --force --reason 说明理由",
            "en": "refusing to shred {source}: the ledger holds no verify (handover verify) of this source; verify first, or use --force --reason",
        },
        "erase.gate.failed": {
            "zh-CN": "拒绝销毁 {source}:最近一次校验(台账序号 {seq})未通过;请修复差异并重新校验,或使用 --force --reason",
            "en": "refusing to shred {source}: the latest verify (ledger seq {seq}) did not pass; fix the differences and verify again, or use --force --reason",
        },
        "erase.gate.uncovered": {
            "zh-CN": "拒绝销毁:表 {table} 不在最近一次通过的校验(台账序号 {seq})范围内;请校验该表,或使用 --force --reason",
            "en": "refusing to shred: table {table} was not covered by the latest verify (ledger seq {seq}); verify it, or use --force --reason",
        },
        "erase.gate.reason": {
            "zh-CN": "--force 需要 --reason 说明理由(理由将记入台账与销毁证明)",
            "en": "--force needs --reason TEXT (the reason is recorded in the ledger and on the certificate)",
        },
        "erase.unknown.spec": {
            "zh-CN": "拒绝销毁:{what} {spec} 不属于本次交接(本工作区台账中没有对它的扫描、封装、迁移、校验或销毁记录);请核对对象,或使用 --force --reason 说明理由;未做任何更改",
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
            "zh-CN": "校验闸门:通过(台账序号 {seq})",
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
            "zh-CN": "销毁证明有效:签名与 {proofs} 个台账包含证明均验证通过(签名密钥 {signer})",
            "en": "Certificate valid: the signature and {proofs} ledger inclusion proofs verify (signing key {signer})",
        },
        "erase.cert.bad": {
            "zh-CN": "销毁证明无效:{problem}",
            "en": "certificate invalid: {problem}",
        },
    }
)
