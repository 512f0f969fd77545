"""User-facing texts of ``handover incidents`` and ``handover drills`` (zh-CN and en)."""

from __future__ import annotations

from handover.i18n import add

# --- errors --------------------------------------------------------------------------------
add(
    {
        "incidents.rules.bad": {
            "zh-CN": "{path}:{where} 的 {field}「{value}」无效;可选:{allowed};未做任何更改",
            "en": "{path}: {where}: {field} {value!r} is not valid; allowed: {allowed}; nothing was changed",
        },
        "incidents.rules.no_source": {
            "zh-CN": "{path}:{where} 没有 source(法律依据);每条规则都必须注明出处;未做任何更改",
            "en": "{path}: {where} has no source; every rule must cite its legal source; nothing was changed",
        },
        "incidents.rules.clock": {
            "zh-CN": "{path}:{where} 必须且只能给出一种时限:hours、days、immediately 或 hours_from(正数)",
            "en": "{path}: {where} needs exactly one clock: hours, days, immediately or hours_from (positive)",
        },
        "incidents.rules.missing": {
            "zh-CN": "规则文件 {path} 不存在",
            "en": "rules file {path} does not exist",
        },
        "incidents.rules.unreadable": {
            "zh-CN": "规则文件 {path} 无法读取({reason})",
            "en": "rules file {path} cannot be read ({reason})",
        },
        "incidents.rules.empty": {
            "zh-CN": "规则文件 {path} 没有任何 [[obligation]] 报告义务",
            "en": "rules file {path} holds no [[obligation]]",
        },
        "incidents.bad_item": {
            "zh-CN": "数据项「{item}」无效:请写表名或 表名.字段名",
            "en": "data item {item!r} is not valid: write table or table.column",
        },
        "incidents.naive_time": {
            "zh-CN": "{field} 必须带时区(例如 2026-03-01T09:30+08:00)",
            "en": "{field} needs a time zone (e.g. 2026-03-01T09:30+08:00)",
        },
        "incidents.bad_time": {
            "zh-CN": "{field}「{value}」不是 ISO 8601 时间(例如 2026-03-01T09:30,按工作区时区理解)",
            "en": "{field} {value!r} is not an ISO 8601 time (e.g. 2026-03-01T09:30, in the workspace time zone)",
        },
        "incidents.future": {
            "zh-CN": "{field} {value} 晚于当前时间 {now}:不能登记未来的时间;未做任何更改",
            "en": "{field} {value} is later than now ({now}): a time in the future is refused; nothing was changed",
        },
        "incidents.before_aware": {
            "zh-CN": "{field} 早于知悉时间 {aware};未做任何更改",
            "en": "{field} is before the awareness time {aware}; nothing was changed",
        },
        "incidents.empty": {
            "zh-CN": "{field} 不能为空",
            "en": "{field} must not be empty",
        },
        "incidents.too_long": {
            "zh-CN": "{field} 过长(最多 {limit} 个字符)",
            "en": "{field} is too long (at most {limit} characters)",
        },
        "incidents.no_incident": {
            "zh-CN": "没有编号为 {id} 的事件(incident)",
            "en": "no incident {id}",
        },
        "incidents.no_event": {
            "zh-CN": "没有编号为 {id} 的安全事件记录(event)",
            "en": "no security event {id}",
        },
        "incidents.no_obligation": {
            "zh-CN": "没有编号为 {id} 的报告义务",
            "en": "no obligation {id}",
        },
        "incidents.no_action": {
            "zh-CN": "没有编号为 {id} 的整改措施",
            "en": "no follow-up action {id}",
        },
        "incidents.no_drill": {
            "zh-CN": "没有编号为 {id} 的演练",
            "en": "no drill {id}",
        },
        "incidents.closed": {
            "zh-CN": "事件 {id} 已关闭:不能再报告或更改;未做任何更改",
            "en": "incident {id} is closed: no more reports or changes; nothing was changed",
        },
        "incidents.event_not_open": {
            "zh-CN": "安全事件 {id} 已处理({status}),不能再次定性",
            "en": "security event {id} was already decided ({status})",
        },
        "incidents.not_open": {
            "zh-CN": "事件 {id} 当前状态为 {status},不是处置中",
            "en": "incident {id} is {status}, not open",
        },
        "incidents.not_handled": {
            "zh-CN": "事件 {id} 尚未处置结束:请先执行 handover incidents handled {id}",
            "en": "incident {id} has not been marked handled: run handover incidents handled {id} first",
        },
        "incidents.no_initial": {
            "zh-CN": "事件 {id} 尚未报送初始报告,不能补报",
            "en": "incident {id} has no initial report yet; a supplement follows one",
        },
        "incidents.open_duty": {
            "zh-CN": "事件 {id} 仍有未履行的报告义务 #{obligation}({rule}),不能关闭",
            "en": "incident {id} still has an open obligation #{obligation} ({rule}); it cannot be closed",
        },
        "incidents.sector_hours": {
            "zh-CN": "已配置行业监管部门「{regulator}」,但 [incidents] sector_hours(报告时限,小时)未配置",
            "en": "sector regulator {regulator!r} is configured but [incidents] sector_hours (hours to report) is not",
        },
        "incidents.bad_grade": {
            "zh-CN": "级别「{grade}」无效;可选:{grades}",
            "en": "grade {grade!r} is not valid; use one of: {grades}",
        },
        "incidents.grade_lower": {
            "zh-CN": "不能定为 {grade}:依据规则至少为 {computed}(只能调高,不能调低)",
            "en": "grade {grade} refused: the rules give at least {computed} (a grade may be raised, never lowered)",
        },
        "incidents.grade_reason": {
            "zh-CN": "将级别由 {computed} 调整为 {grade} 需要用 --grade-reason 说明理由",
            "en": "raising the grade from {computed} to {grade} needs --grade-reason",
        },
        "incidents.bad_category": {
            "zh-CN": "事件类型「{category}」无效;可选:{categories}",
            "en": "category {category!r} is not valid; use one of: {categories}",
        },
        "incidents.people_reason": {
            "zh-CN": "人工给出受影响人数时需要同时说明理由(--people-reason),且人数不能为负",
            "en": "a count of affected people given by hand needs --people-reason and must not be negative",
        },
        "incidents.bad_loss": {
            "zh-CN": "直接经济损失 {value} 无效",
            "en": "direct loss {value} is not valid",
        },
        "incidents.bad_fact": {
            "zh-CN": "报告事项「{key}」无效;可选:{keys}",
            "en": "fact {key!r} is not valid; use one of: {keys}",
        },
        "incidents.no_individuals": {
            "zh-CN": "事件 {id} 没有告知个人的义务(不涉及个人信息)",
            "en": "incident {id} has no duty to tell individuals (no personal information concerned)",
        },
        "incidents.obligation_met": {
            "zh-CN": "报告义务 #{id} 已履行",
            "en": "obligation #{id} is already met",
        },
        "incidents.obligation_not_open": {
            "zh-CN": "报告义务 #{id} 当前为 {status},不是待履行",
            "en": "obligation #{id} is {status}, not open",
        },
        "incidents.bad_report_kind": {
            "zh-CN": "报告类型「{kind}」无效;可选:{kinds}",
            "en": "report kind {kind!r} is not valid; use one of: {kinds}",
        },
        "incidents.action_done": {
            "zh-CN": "整改措施 #{id} 已完成",
            "en": "follow-up action #{id} is already done",
        },
        "incidents.bad_scenario": {
            "zh-CN": "演练场景「{scenario}」不存在;可选:{scenarios}",
            "en": "no drill scenario {scenario!r}; use one of: {scenarios}",
        },
        "incidents.drill_state": {
            "zh-CN": "演练 {id} 当前为 {status},不能执行该操作",
            "en": "drill {id} is {status}; that step does not apply",
        },
        "incidents.unknown_participant": {
            "zh-CN": "演练参与人「{name}」不是本工作区登记的人员",
            "en": "drill participant {name!r} is not a registered person of this workspace",
        },
        "incidents.report_exists": {
            "zh-CN": "报告目录 {path} 已存在;未做任何更改",
            "en": "report folder {path} already exists; nothing was changed",
        },
        "incidents.bad_audience": {
            "zh-CN": "通知对象「{audience}」无效;可选:{audiences}",
            "en": "audience {audience!r} is not valid; use one of: {audiences}",
        },
        "incidents.drill_real_recipients": {
            "zh-CN": "事件 {id} 是演练:演练不能向真实客户发送通知(只能发给演练参与人);未做任何更改",
            "en": "incident {id} is a drill: a drill never addresses real customers (only its participants); nothing was changed",
        },
        "incidents.participants_not_drill": {
            "zh-CN": "事件 {id} 不是演练:真实事件的通知对象是受影响的客户",
            "en": "incident {id} is not a drill: its notice goes to the affected customers",
        },
        "incidents.notice_missing": {
            "zh-CN": "事件 {id} 缺少告知个人所需的内容:{facts}(个人信息保护法第五十七条);请用 handover incidents facts 补充",
            "en": "incident {id} lacks what the notice to individuals must say: {facts} (PIPL Art. 57); add it with handover incidents facts",
        },
    }
)

# --- labels (reports, CLI) -------------------------------------------------------------------
_LABELS: dict[str, tuple[str, str]] = {
    "grade.general": ("一般网络安全事件", "general"),
    "grade.significant": ("较大网络安全事件", "significant (较大)"),
    "grade.major": ("重大网络安全事件", "major (重大)"),
    "grade.especially_major": ("特别重大网络安全事件", "especially major (特别重大)"),
    "category.data_leak": ("数据泄露", "data leak"),
    "category.data_tamper": ("数据篡改", "data tampering"),
    "category.data_loss": ("数据丢失", "data loss"),
    "category.ransomware": ("勒索软件", "ransomware"),
    "category.intrusion": ("网络入侵", "intrusion"),
    "category.outage": ("系统中断", "outage"),
    "category.other": ("其他", "other"),
    "regime.cac": ("国家网络安全事件报告管理办法", "CAC incident reporting measures"),
    "regime.pipl57": ("个人信息保护法第五十七条", "PIPL Art. 57"),
    "regime.sector": ("行业监管要求", "sector regulator"),
    "regime.police": ("公安机关报案", "police report"),
    "kind.initial": ("初始报告", "initial report"),
    "kind.summary": ("总结报告", "summary report"),
    "kind.notice": ("告知/通知", "notice"),
    "status.open": ("待履行", "open"),
    "status.met": ("已履行", "met"),
    "status.waived": ("依法免除", "waived"),
    "status.handled": ("处置结束", "handled"),
    "status.closed": ("已关闭", "closed"),
    "recipient.provincial_cac": ("属地省级网信部门", "provincial CAC office"),
    "recipient.protection_department": ("保护工作部门", "protection department"),
    "recipient.police": ("公安机关", "public security organ"),
    "recipient.department_cac": ("本部门网信工作机构", "the department's cyberspace office"),
    "recipient.pi_regulator": ("履行个人信息保护职责的部门", "personal information regulator"),
    "recipient.individuals": ("受影响的个人", "the individuals concerned"),
    "recipient.sector_regulator": ("行业监管部门", "sector regulator"),
    "item.unit": ("一、事发单位及设施、系统基本情况", "1. The unit and the systems concerned"),
    "item.event": (
        "二、事件发现时间、地点、类型、影响和危害、已采取的措施",
        "2. When found, where, type, impact and harm, measures taken",
    ),
    "item.trend": ("三、事态发展趋势及可能的进一步影响", "3. Trend and possible further harm"),
    "item.cause": ("四、原因初步分析", "4. Preliminary cause"),
    "item.leads": ("五、调查线索(攻击路径、漏洞等)", "5. Leads (attack path, weaknesses)"),
    "item.next": ("六、拟采取的应对措施及请求支援事项", "6. Next measures and support requested"),
    "item.scene": ("七、现场保护情况", "7. Protection of the scene"),
    "item.other": ("八、其他应当报告的情况", "8. Other matters"),
    "item.summary": ("三、处置总结", "3. Summary of the handling"),
    "field.operator": ("单位名称", "Operator"),
    "field.contact": ("联系人及方式", "Contact"),
    "field.systems": ("涉及的设施、系统", "Systems"),
    "field.data": ("涉及的数据(表/字段)", "Data concerned (tables/columns)"),
    "field.aware_at": ("发现或获知时间", "Found or learnt at"),
    "field.location": ("地点", "Where"),
    "field.category": ("事件类型", "Type"),
    "field.grade": ("事件级别", "Grade"),
    "field.people": ("受影响人数", "People affected"),
    "field.categories": ("个人信息种类", "Categories of personal information"),
    "field.impact": ("已造成的影响和危害", "Impact and harm so far"),
    "field.measures": ("已采取的措施及效果", "Measures taken and their effect"),
    "field.trend": ("发展趋势", "Trend"),
    "field.harm": ("可能造成的危害", "Possible harm"),
    "field.cause": ("原因", "Cause"),
    "field.leads": ("线索", "Leads"),
    "field.next_steps": ("拟采取的措施", "Next measures"),
    "field.support": ("请求支援事项", "Support requested"),
    "field.scene": ("现场保护", "Scene protection"),
    "field.other": ("其他", "Other"),
    "field.handled_at": ("处置结束时间", "Handling ended at"),
    "field.accountability": ("责任追究", "Accountability"),
    "field.remediation": ("完善整改情况", "Remediation"),
    "field.lessons": ("教训", "Lessons"),
    "report.pending": ("(待查明,将及时补报)", "(not yet known; to follow in a supplement)"),
    "report.people_unknown": (
        "尚无法统计(扫描清单中没有所涉表)",
        "not yet countable (the tables are not in the scan inventory)",
    ),
    "report.first_items": (
        "依《国家网络安全事件报告管理办法》第七条第二款,规定时间内不能判定事发原因、影响或发展趋势的,可先报告第一、二项内容,其他情况及时补报。",
        "Under Art. 7 ¶2 of the CAC reporting measures, items 1 and 2 may be reported first when cause, impact or trend cannot be determined in time; the rest follows in supplements.",
    ),
    "report.sources": (
        "时限与分级依据见 handover 规则文件 rules.toml(每条注明出处及核实程度)。",
        "Deadlines and grades follow handover's rules.toml (each rule cites its source and how it was verified).",
    ),
    "step.incident.event.record": ("登记安全事件", "security event recorded"),
    "step.incident.event.dismiss": ("判定不构成事件", "event dismissed"),
    "step.incident.promote": ("定性为网络安全事件并定级", "promoted to an incident and graded"),
    "step.incident.grade": ("调整级别", "grade changed"),
    "step.incident.facts": ("补充事实", "facts added"),
    "step.incident.individuals": (
        "决定是否告知个人(第五十七条)",
        "decision on telling individuals (Art. 57)",
    ),
    "step.incident.obligation.met": ("报告义务已履行", "obligation met"),
    "step.incident.obligation.remind": ("报告时限提醒(已用 80%)", "deadline reminder (80 % used)"),
    "step.incident.obligation.escalate": ("超过报告时限,升级", "deadline missed, escalated"),
    "step.incident.handled": ("处置结束", "handling ended"),
    "step.incident.report.file": ("报告已生成并归档", "report filed"),
    "step.incident.action.add": ("新增整改措施", "follow-up action added"),
    "step.incident.action.done": ("整改措施完成", "follow-up action done"),
    "step.incident.close": ("事件关闭(复盘)", "incident closed (review)"),
    "step.incident.drill.schedule": ("安排演练", "drill scheduled"),
    "step.incident.drill.start": ("演练开始", "drill started"),
    "step.incident.drill.finish": ("演练结束", "drill finished"),
    "step.incident.notice.prepare": ("准备告知个人的通知内容", "notice to individuals prepared"),
}
add({f"incidents.{k}": {"zh-CN": zh, "en": en} for k, (zh, en) in _LABELS.items()})

add(
    {
        "incidents.report.people_override": {
            "zh-CN": "{n} 人(人工确认:{reason})",
            "en": "{n} people (confirmed by hand: {reason})",
        },
        "incidents.report.people_counted": {
            "zh-CN": "至多 {n} 人、至少 {low} 人(依据扫描清单 #{scan}:{tables})",
            "en": "at most {n}, at least {low} people (scan inventory #{scan}: {tables})",
        },
        "incidents.report.unknown_items": {
            "zh-CN": "扫描清单中没有的数据项:{items}",
            "en": "data items not in the scan inventory: {items}",
        },
        "incidents.report.legal_clock": {
            "zh-CN": "法定时限 {hours} 小时",
            "en": "legal deadline {hours} h",
        },
        "incidents.report.target_clock": {
            "zh-CN": "法律要求“立即”,内部目标 {hours} 小时",
            "en": "the law says 'immediately'; internal target {hours} h",
        },
        "incidents.report.title.initial": {
            "zh-CN": "网络安全事件初始报告",
            "en": "Initial incident report",
        },
        "incidents.report.title.supplement": {
            "zh-CN": "网络安全事件补充报告(第 {n} 次)",
            "en": "Supplementary incident report no. {n}",
        },
        "incidents.report.title.summary": {
            "zh-CN": "网络安全事件处置总结报告",
            "en": "Incident handling summary report",
        },
    }
)

# --- command output ------------------------------------------------------------------------
add(
    {
        "incidents.cli.event_recorded": {
            "zh-CN": "已登记安全事件 #{id}:{title}(发现于 {at})",
            "en": "security event #{id} recorded: {title} (noticed {at})",
        },
        "incidents.cli.event_dismissed": {
            "zh-CN": "安全事件 #{id} 判定为不构成事件",
            "en": "security event #{id} dismissed",
        },
        "incidents.cli.promoted": {
            "zh-CN": "事件 #{id}:{grade};受影响人数 {people};知悉时间 {aware};报告义务 {n} 项",
            "en": "incident #{id}: {grade}; people affected {people}; aware at {aware}; {n} obligations",
        },
        "incidents.cli.unknown_items": {
            "zh-CN": "注意:扫描清单中没有这些数据项,未计入人数:{items}",
            "en": "note: not in the scan inventory, not counted: {items}",
        },
        "incidents.cli.duty": {
            "zh-CN": "  #{id} {regime} → {recipient}:{kind},截止 {due}({left})",
            "en": "  #{id} {regime} → {recipient}: {kind}, due {due} ({left})",
        },
        "incidents.cli.left": {
            "zh-CN": "剩余 {h} 小时 {m} 分",
            "en": "{h} h {m} min left",
        },
        "incidents.cli.overdue": {
            "zh-CN": "已超时 {h} 小时 {m} 分",
            "en": "overdue by {h} h {m} min",
        },
        "incidents.cli.no_duties": {
            "zh-CN": "没有待履行的报告义务",
            "en": "no open obligations",
        },
        "incidents.cli.next_drill": {
            "zh-CN": "下次演练应于 {due} 前进行(剩余 {days} 天){scheduled}",
            "en": "next drill due by {due} ({days} days){scheduled}",
        },
        "incidents.cli.drill_scheduled": {
            "zh-CN": ";已安排演练 #{id}({scenario},{at})",
            "en": "; drill #{id} scheduled ({scenario}, {at})",
        },
        "incidents.cli.tick": {
            "zh-CN": "提醒 {reminded} 项,升级 {escalated} 项",
            "en": "{reminded} reminders, {escalated} escalations",
        },
        "incidents.cli.reminded": {
            "zh-CN": "  提醒:事件 #{incident} 义务 #{id}({recipient})将于 {due} 到期",
            "en": "  reminder: incident #{incident} obligation #{id} ({recipient}) due {due}",
        },
        "incidents.cli.escalated": {
            "zh-CN": "  升级:事件 #{incident} 义务 #{id}({recipient})已于 {due} 超时",
            "en": "  escalated: incident #{incident} obligation #{id} ({recipient}) missed {due}",
        },
        "incidents.cli.report_filed": {
            "zh-CN": "已生成{kind} → {folder};已履行义务:{met}",
            "en": "{kind} written → {folder}; obligations met: {met}",
        },
        "incidents.cli.updated": {
            "zh-CN": "事件 #{id} 已更新",
            "en": "incident #{id} updated",
        },
        "incidents.cli.handled": {
            "zh-CN": "事件 #{id} 处置结束;新增报告义务 {n} 项",
            "en": "incident #{id} handled; {n} new obligations",
        },
        "incidents.cli.closed": {
            "zh-CN": "事件 #{id} 已关闭",
            "en": "incident #{id} closed",
        },
        "incidents.cli.action_added": {
            "zh-CN": "整改措施 #{id}:{what}(负责人 {owner},{due} 前)",
            "en": "follow-up #{id}: {what} (owner {owner}, due {due})",
        },
        "incidents.cli.action_done": {
            "zh-CN": "整改措施 #{id} 已完成",
            "en": "follow-up #{id} done",
        },
        "incidents.cli.obligation": {
            "zh-CN": "报告义务 #{id} 状态:{status}",
            "en": "obligation #{id}: {status}",
        },
        "incidents.cli.warnings": {
            "zh-CN": "预警规则发现 {n} 项,新登记安全事件 {new} 项",
            "en": "{n} findings, {new} new security events",
        },
        "incidents.cli.drill": {
            "zh-CN": "演练 #{id}:{scenario},{status},{at}",
            "en": "drill #{id}: {scenario}, {status}, {at}",
        },
        "incidents.cli.drill_started": {
            "zh-CN": "演练 #{id} 已开始:演练事件 #{incident}(所有报告义务均标记为演练,不会发送)",
            "en": "drill #{id} started: drill incident #{incident} (every obligation is marked as a drill; nothing is sent)",
        },
        "incidents.cli.drill_finished": {
            "zh-CN": "演练 #{id} 结束:按时 {ok} 项,超时或未完成 {late} 项,决策用时 {minutes} 分钟",
            "en": "drill #{id} finished: {ok} in time, {late} late or missed, decision took {minutes} min",
        },
    }
)
