"""User-facing texts of the pia room and of ``handover pia`` / ``risks`` / ``compliance``."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "pia.bad_scale": {
            "zh-CN": "{what} 的取值 {value} 无效;可选:{allowed}",
            "en": "{what}: {value} is not valid; one of: {allowed}",
        },
        "pia.bad_method": {
            "zh-CN": "{path}:评估方法文件无效:{detail}",
            "en": "{path}: invalid method file: {detail}",
        },
        "pia.bad_checklist": {
            "zh-CN": "{path}:合规检查清单文件无效:{detail}",
            "en": "{path}: invalid checklist file: {detail}",
        },
        "pia.edits_missing": {
            "zh-CN": "{path}:文件不存在",
            "en": "{path}: no such file",
        },
        "pia.edits_bad": {
            "zh-CN": "{path}:无法读取修改内容:{detail}",
            "en": "{path}: cannot read the edits: {detail}",
        },
        "pia.edit_field": {
            "zh-CN": "{where}:字段 {field} 无效:{detail};未做任何更改",
            "en": "{where}: field {field} is not valid: {detail}; nothing was changed",
        },
        "pia.gap.signatory": {"zh-CN": "未指定报告签署人", "en": "no named signatory"},
        "pia.gap.team": {"zh-CN": "未组建评估团队", "en": "no assessment team"},
        "pia.gap.opinion": {
            "zh-CN": "缺少个人信息保护负责人意见",
            "en": "the DPO's opinion is missing",
        },
        "pia.gap.data_map": {
            "zh-CN": "数据映射为空(请先运行 handover scan)",
            "en": "the data map is empty (run handover scan first)",
        },
        "pia.gap.risk": {
            "zh-CN": "风险 {id} 缺少负责人或复查日期",
            "en": "risk {id} has no owner or review date",
        },
        "pia.gap.measure": {
            "zh-CN": "计划措施 {id} 缺少负责人或完成日期",
            "en": "planned measure {id} has no owner or due date",
        },
        "pia.no_assessment": {
            "zh-CN": "没有编号为 {id} 的影响评估",
            "en": "no impact assessment with id {id}",
        },
        "pia.no_version": {
            "zh-CN": "影响评估 {id} 没有版本 {version}",
            "en": "impact assessment {id} has no version {version}",
        },
        "pia.bad_decision": {
            "zh-CN": "决定 {decision} 无效(approve 或 reject)",
            "en": "decision {decision} is not valid (approve or reject)",
        },
        "pia.refuse.not_draft": {
            "zh-CN": "影响评估 {id} 当前为 {status},只有草稿可以提交",
            "en": "impact assessment {id} is {status}; only a draft can be submitted",
        },
        "pia.refuse.gaps": {
            "zh-CN": "影响评估 {id} 尚有 {n} 处缺项,不能提交;首项:{gap}",
            "en": "impact assessment {id} has {n} gap(s) and cannot be submitted; first: {gap}",
        },
        "pia.refuse.not_submitted": {
            "zh-CN": "影响评估 {id} 当前为 {status},没有待审批的版本",
            "en": "impact assessment {id} is {status}; no version awaits approval",
        },
        "pia.refuse.not_signatory": {
            "zh-CN": "{name} 不是影响评估 {id} 指定的报告签署人({signatory})",
            "en": "{name} is not the named signatory of impact assessment {id} ({signatory})",
        },
        "pia.refuse.self": {
            "zh-CN": "{name} 撰写或提交了影响评估 {id} 的该版本,不能自行审批(双人复核)",
            "en": "{name} wrote or submitted this version of impact assessment {id} and cannot decide on it (maker-checker)",
        },
        "pia.refuse.reason": {
            "zh-CN": "驳回影响评估 {id} 必须说明理由(--reason)",
            "en": "rejecting impact assessment {id} needs a reason (--reason)",
        },
        "pia.refuse.opinion_role": {
            "zh-CN": "{name} 不是个人信息保护负责人(dpo 角色),不能出具负责人意见",
            "en": "{name} is not a data protection officer (role dpo) and cannot give the DPO's opinion",
        },
        "pia.opinion_empty": {
            "zh-CN": "负责人意见不能为空",
            "en": "the opinion text must not be empty",
        },
        "pia.unknown_person": {
            "zh-CN": "{field}:{name} 不是已登记的人员",
            "en": "{field}: {name} is not a registered person",
        },
        "pia.risk_fields": {
            "zh-CN": "风险需要编号(最多 40 个字符)和标题",
            "en": "a risk needs a code (at most 40 characters) and a title",
        },
        "pia.risk_exists": {
            "zh-CN": "风险编号 {code} 已存在",
            "en": "risk code {code} is already taken",
        },
        "pia.no_risk": {
            "zh-CN": "风险登记册中没有 {code}",
            "en": "no risk {code} in the register",
        },
        "pia.review_past": {
            "zh-CN": "下次复查日期 {date} 必须晚于今天",
            "en": "the next review date {date} must be after today",
        },
        "pia.default_title": {
            "zh-CN": "个人信息保护影响评估:{transfer}",
            "en": "Personal information protection impact assessment: {transfer}",
        },
        "pia.export_exists": {
            "zh-CN": "{path} 已存在且不为空;导出不会覆盖已有文件",
            "en": "{path} exists and is not empty; an export never overwrites files",
        },
        "pia.attest_unknown": {
            "zh-CN": "清单中没有条目 {item};可选:{items}",
            "en": "no checklist item {item}; one of: {items}",
        },
        "pia.attest_computed": {
            "zh-CN": "条目 {item} 由账本自动评估,不能人工声明",
            "en": "item {item} is computed from the ledger and cannot be attested",
        },
        "pia.attest_note": {
            "zh-CN": "声明需要说明(--note)",
            "en": "an attestation needs a note (--note)",
        },
        # --- command output ---------------------------------------------------------------
        "pia.cli.summary": {
            "zh-CN": "影响评估 #{id} 第 {version} 版 [{status}] {sha} {title}",
            "en": "assessment #{id} v{version} [{status}] {sha} {title}",
        },
        "pia.cli.signatory": {"zh-CN": "报告签署人:{name}", "en": "signatory: {name}"},
        "pia.cli.risks": {
            "zh-CN": "风险(等级 = 影响程度 × 可能性):",
            "en": "risks (level = impact × likelihood):",
        },
        "pia.cli.measures": {"zh-CN": "保护措施:", "en": "measures:"},
        "pia.cli.gaps": {
            "zh-CN": "提交前需补齐 {n} 项:",
            "en": "{n} gap(s) before it can be submitted:",
        },
        "pia.cli.versions": {"zh-CN": "版本:", "en": "versions:"},
        "pia.cli.exported": {
            "zh-CN": "已导出签名报告 {folder}(pia.json SHA-256 {sha},账本序号 {seq})",
            "en": "signed report exported to {folder} (pia.json SHA-256 {sha}, ledger seq {seq})",
        },
        "pia.cli.overdue": {
            "zh-CN": "警告:风险 {code} 的复查已逾期 {days} 天(负责人 {owner},应于 {date})",
            "en": "warning: the review of risk {code} is {days} day(s) overdue (owner {owner}, due {date})",
        },
        "pia.cli.trend": {
            "zh-CN": "最近一次合规检查(账本序号 {seq})得分 {score:.0f}%;较上次新增不符合:{worse};恢复符合:{better}",
            "en": "last compliance check (ledger seq {seq}) scored {score:.0f}%; newly not met since the run before: {worse}; met again: {better}",
        },
        "pia.cli.status.met": {"zh-CN": "符合", "en": "met"},
        "pia.cli.status.not_met": {"zh-CN": "不符合", "en": "NOT MET"},
        "pia.cli.status.attested": {"zh-CN": "已声明", "en": "attested"},
        "pia.cli.status.not_applicable": {"zh-CN": "不适用", "en": "n/a"},
        "pia.cli.score": {
            "zh-CN": "得分 {score:.0f}%:符合 {met},已声明 {attested},不符合 {not_met},不适用 {na}(账本序号 {seq})",
            "en": "score {score:.0f}%: met {met}, attested {attested}, not met {not_met}, n/a {na} (ledger seq {seq})",
        },
        "pia.cli.attested": {
            "zh-CN": "已记录对条目 {item} 的声明(账本序号 {seq})",
            "en": "attestation of {item} recorded (ledger seq {seq})",
        },
        "pia.demo_step": {
            "zh-CN": "影响评估 #{id} 第 {version} 版已批准:{risks} 项风险(等级 {levels}),保存至 {until};签名报告 {folder}",
            "en": "assessment #{id} v{version} approved: {risks} risks (levels {levels}), kept until {until}; signed report {folder}",
        },
        "demo.step.pia": {
            "zh-CN": "个人信息保护影响评估(封装前审批)",
            "en": "Impact assessment (approved before sealing)",
        },
        "demo.step.compliance": {
            "zh-CN": "由账本评估合规检查清单",
            "en": "Evaluate the compliance checklist from the ledger",
        },
        # --- checklist results -------------------------------------------------------------
        "pia.check.needs_attestation": {
            "zh-CN": "需要人工声明(handover compliance attest)",
            "en": "needs a person's attestation (handover compliance attest)",
        },
        "pia.check.attested": {"zh-CN": "已由 {name} 声明", "en": "attested by {name}"},
        "pia.check.attested_na": {
            "zh-CN": "{name} 声明不适用:{reason}",
            "en": "{name} attested it does not apply: {reason}",
        },
        "pia.check.na.no_transfer": {
            "zh-CN": "尚未封装或迁移任何数据",
            "en": "no data has been sealed or migrated yet",
        },
        "pia.check.na.no_pia": {
            "zh-CN": "尚无已批准的影响评估",
            "en": "no approved assessment yet",
        },
        "pia.check.na.no_reads": {
            "zh-CN": "账本中没有明文读取 C2/C3 数据的授权",
            "en": "the ledger holds no clear access to C2/C3 data",
        },
        "pia.check.na.no_steps": {
            "zh-CN": "账本中没有数据处理步骤",
            "en": "the ledger holds no data step",
        },
        "pia.check.na.no_seal": {"zh-CN": "尚未封装任何数据", "en": "nothing has been sealed yet"},
        "pia.check.na.no_extract": {
            "zh-CN": "尚未生成尽调数据包",
            "en": "no due-diligence extract yet",
        },
        "pia.check.na.no_migration": {"zh-CN": "尚未迁移", "en": "no migration yet"},
        "pia.check.na.no_copies": {"zh-CN": "没有中间副本", "en": "no intermediary copy exists"},
        "pia.check.na.no_shred": {"zh-CN": "尚未销毁", "en": "nothing has been shredded yet"},
        "pia.check.na.ledger_unchecked": {
            "zh-CN": "账本未核验",
            "en": "the ledger was not checked",
        },
        "pia.check.na.no_staff": {"zh-CN": "没有数据岗位人员", "en": "nobody holds a data role"},
        "pia.check.na.no_vendor": {"zh-CN": "未登记第三方", "en": "no vendor is registered"},
        "pia.check.na.no_cross_border": {
            "zh-CN": "已批准的影响评估未涉及向境外提供",
            "en": "no approved assessment provides information abroad",
        },
        "pia.check.ex.before_pia": {
            "zh-CN": "该步骤发生时尚无已批准的影响评估",
            "en": "this step happened before any assessment was approved",
        },
        "pia.check.ex.retention": {
            "zh-CN": "保存至 {until},应不早于 {need}",
            "en": "kept until {until}, needs at least {need}",
        },
        "pia.check.ex.unknown_person": {
            "zh-CN": "{name} 不是已登记的人员",
            "en": "{name} is not a registered person",
        },
        "pia.check.ex.no_nda": {
            "zh-CN": "{name} 在 {at} 没有覆盖该数据的有效保密协议",
            "en": "{name} had no NDA in force covering the data at {at}",
        },
        "pia.check.ex.no_training": {
            "zh-CN": "{name} 在 {at} 没有课程 {course} 的有效培训记录",
            "en": "{name} held no current training in {course} at {at}",
        },
        "pia.check.ex.unauthorised": {
            "zh-CN": "{name} 执行 {step} 之前没有允许的授权决定",
            "en": "{name} ran {step} without an allowing decision before it",
        },
        "pia.check.ex.no_scan": {
            "zh-CN": "封装之前没有扫描清单",
            "en": "sealed without a scan inventory before it",
        },
        "pia.check.ex.unclassified": {
            "zh-CN": "字段 {column} 缺少类别或级别",
            "en": "column {column} has no tier or level",
        },
        "pia.check.ex.keys": {
            "zh-CN": "封装包缺少算法或独立的 C2/C3 列密钥",
            "en": "the package lacks a suite or separate C2/C3 column keys",
        },
        "pia.check.ex.k": {"zh-CN": "k = {k},应 ≥ {need}", "en": "k = {k}, needs >= {need}"},
        "pia.check.ex.unverified": {
            "zh-CN": "该迁移之后没有通过的核验",
            "en": "no passing verification after this migration",
        },
        "pia.check.ex.not_destroyed": {
            "zh-CN": "副本 {path} 尚未销毁",
            "en": "copy {path} is not destroyed",
        },
        "pia.check.ex.no_certificate": {
            "zh-CN": "销毁运行 {run} 没有销毁证明",
            "en": "shred run {run} has no certificate",
        },
        "pia.check.ex.ledger": {"zh-CN": "账本问题:{problem}", "en": "ledger problem: {problem}"},
        "pia.check.ex.no_dpo": {
            "zh-CN": "没有在职的个人信息保护负责人(dpo 角色)",
            "en": "no active person holds the dpo role",
        },
        "pia.check.ex.no_contact": {
            "zh-CN": "handover.toml 中 [transfer.{side}] 缺少联系人或联系方式",
            "en": "[transfer.{side}] in handover.toml lacks a contact person or contact details",
        },
        "pia.check.ex.training_now": {
            "zh-CN": "{name} 没有课程 {course} 的有效培训",
            "en": "{name} holds no current training in {course}",
        },
        "pia.check.ex.vendor": {
            "zh-CN": "第三方 {vendor} 的评估结论为 {decision} 或已过复评日期",
            "en": "vendor {vendor}: assessment {decision}, or its reassessment date has passed",
        },
    }
)
