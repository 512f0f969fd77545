"""User-facing texts of governance (zh-CN and English)."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        # input and rules
        "gov.password_missing": {
            "zh-CN": "需要密码:请在提示时输入,或设置 HANDOVER_PASSWORD",
            "en": "a password is needed: type it at the prompt or set HANDOVER_PASSWORD",
        },
        "gov.password_short": {
            "zh-CN": "密码太短:至少 {n} 个字符",
            "en": "password too short: at least {n} characters",
        },
        "gov.password_long": {
            "zh-CN": "密码太长:最多 1024 字节",
            "en": "password too long: at most 1024 bytes",
        },
        "gov.roles_missing": {
            "zh-CN": "至少需要一个角色(--role)",
            "en": "at least one role is needed (--role)",
        },
        "gov.first_person": {
            "zh-CN": "工作区的第一个人必须是个人信息保护负责人(dpo)或合规专员(compliance_officer)",
            "en": "the first person of a workspace must be a DPO (dpo) or a compliance officer "
            "(compliance_officer)",
        },
        "gov.vendor_staff_org": {
            "zh-CN": "vendor_staff 角色只能授予第三方(vendor)组织的人员;{org} 不是第三方",
            "en": "the vendor_staff role belongs to people of a vendor organisation; {org} is not one",
        },
        "gov.own_roles": {
            "zh-CN": "不能修改自己的角色(请由另一名管理人员操作)",
            "en": "you cannot change your own roles (another manager must do it)",
        },
        "gov.session_hours": {
            "zh-CN": "会话时长须在 0 到 {max} 小时之间",
            "en": "session length must be between 0 and {max} hours",
        },
        "gov.login_refused": {
            "zh-CN": "登录被拒绝:{name} 的用户名或密码错误,或账号已停用",
            "en": "login refused: wrong name or password for {name}, or the account is inactive",
        },
        "gov.login_needed": {
            "zh-CN": "需要先登录:handover login 用户名",
            "en": "log in first: handover login NAME",
        },
        "gov.inactive": {
            "zh-CN": "{name} 的账号已停用",
            "en": "{name}'s account is inactive",
        },
        "gov.nda_parties": {
            "zh-CN": "保密协议至少需要两个当事方(--party)",
            "en": "an NDA needs at least two parties (--party)",
        },
        "gov.nda_dates": {
            "zh-CN": "到期日 {expires} 早于生效日 {effective}",
            "en": "expiry date {expires} is before the effective date {effective}",
        },
        "gov.nda_document_needed": {
            "zh-CN": "已签署的保密协议需要签署文件(--document,用于计算 SHA-256)",
            "en": "a signed NDA needs its signed document (--document, for its SHA-256)",
        },
        "gov.breach_text": {
            "zh-CN": "违约记录需要经过描述(--description)和后续处理(--follow-up)",
            "en": "a breach needs a description (--description) and a follow-up (--follow-up)",
        },
        "gov.training_aborted": {
            "zh-CN": "测试在第 {n} 题中止(没有输入答案);未记录任何成绩",
            "en": "assessment aborted at question {n} (no answer given); nothing recorded",
        },
        "gov.training_bad_answer": {
            "zh-CN": "第 {n} 题连续三次答案无效;测试中止,未记录任何成绩",
            "en": "question {n}: three invalid answers; assessment aborted, nothing recorded",
        },
        "gov.grant_purpose": {
            "zh-CN": "授权需要目的(--purpose,1-300 个字符)",
            "en": "a grant needs a purpose (--purpose, 1-300 characters)",
        },
        "gov.grant_window": {
            "zh-CN": "授权结束时间 {end} 不晚于开始时间 {start}",
            "en": "grant ends at {end}, not after it starts at {start}",
        },
        "gov.grant_too_long": {
            "zh-CN": "授权期限最长 {days} 天",
            "en": "a grant lasts at most {days} days",
        },
        "gov.approve_not_approver": {
            "zh-CN": "拒绝:{name} 不具有审批人(approver)角色,不能审批授权 #{id}",
            "en": "refused: {name} does not hold the approver role and cannot decide grant #{id}",
        },
        "gov.approve_self": {
            "zh-CN": "拒绝:{name} 是授权 #{id} 的申请人或被授权人,不能自己审批",
            "en": "refused: {name} requested or receives grant #{id} and cannot approve it",
        },
        "gov.approve_twice": {
            "zh-CN": "拒绝:{name} 已审批过授权 #{id};需要另一名审批人",
            "en": "refused: {name} already decided grant #{id}; another approver is needed",
        },
        "gov.approve_not_pending": {
            "zh-CN": "授权 #{id} 当前状态为 {state},不能再审批",
            "en": "grant #{id} is {state} and can no longer be decided",
        },
        "gov.revoke_refused": {
            "zh-CN": "拒绝:{name} 不能撤销授权 #{id}(仅申请人、审批人或管理人员可以)",
            "en": "refused: {name} cannot revoke grant #{id} (only its requester, an approver or "
            "a manager can)",
        },
        # authorisation decisions
        "gov.allow": {
            "zh-CN": "允许:{name} 依据授权 #{id}({mode},目的:{purpose})和保密协议 #{nda}",
            "en": "allowed: {name} under grant #{id} ({mode}, purpose: {purpose}) and NDA #{nda}",
        },
        "gov.allow.manage": {
            "zh-CN": "允许:{name} 具有 {role} 角色",
            "en": "allowed: {name} holds the {role} role",
        },
        "gov.refuse.no_login": {
            "zh-CN": "拒绝 {action}:未登录(handover login 用户名)",
            "en": "refused {action}: nobody is logged in (handover login NAME)",
        },
        "gov.refuse.unknown": {
            "zh-CN": "拒绝:没有名为 {name} 的人员",
            "en": "refused: there is no person named {name}",
        },
        "gov.refuse.inactive": {
            "zh-CN": "拒绝:{name} 的账号已停用",
            "en": "refused: {name}'s account is inactive",
        },
        "gov.refuse.role": {
            "zh-CN": "拒绝:{name} 的角色({roles})不能执行 {action};需要 {need} 之一",
            "en": "refused: {name}'s roles ({roles}) cannot do {action}; one of {need} is needed",
        },
        "gov.refuse.no_nda": {
            "zh-CN": "拒绝:{name} 没有覆盖 {items} 的保密协议",
            "en": "refused: no NDA binding {name} covers {items}",
        },
        "gov.refuse.nda_expired": {
            "zh-CN": "拒绝:{name} 的保密协议 #{nda}「{title}」已于 {date} 到期",
            "en": 'refused: {name}\'s NDA #{nda} "{title}" expired on {date}',
        },
        "gov.refuse.nda_breached": {
            "zh-CN": "拒绝:{name} 的保密协议 #{nda}「{title}」已记录违约,需重新签署",
            "en": 'refused: {name}\'s NDA #{nda} "{title}" has a recorded breach; a new one is needed',
        },
        "gov.refuse.nda_pending": {
            "zh-CN": "拒绝:{name} 的保密协议 #{nda}「{title}」尚未签署或未生效(生效日 {date})",
            "en": 'refused: {name}\'s NDA #{nda} "{title}" is not signed or not yet in force '
            "(effective {date})",
        },
        "gov.refuse.training_never": {
            "zh-CN": "拒绝:{name} 尚未通过必修培训 {course}(handover training take {course})",
            "en": "refused: {name} has not passed the required course {course} "
            "(handover training take {course})",
        },
        "gov.refuse.training_lapsed": {
            "zh-CN": "拒绝:{name} 的培训 {course} 已于 {date} 过期,需重新考核",
            "en": "refused: {name}'s training {course} lapsed on {date}; retake it",
        },
        "gov.refuse.vendor_unregistered": {
            "zh-CN": "拒绝:{name} 所在的第三方 {vendor} 未登记为供应商",
            "en": "refused: {name}'s organisation {vendor} is not a registered vendor",
        },
        "gov.refuse.vendor_assessment": {
            "zh-CN": "拒绝:{name} 所在的第三方 {vendor} 没有有效的安全评估({state})",
            "en": "refused: {name}'s vendor {vendor} has no passing security assessment ({state})",
        },
        "gov.refuse.no_grant": {
            "zh-CN": "拒绝:{name} 没有覆盖 {resource} 的 {action} 授权",
            "en": "refused: {name} holds no grant for {action} on {resource}",
        },
        "gov.refuse.grant_pending": {
            "zh-CN": "拒绝:{name} 的授权 #{id} 待审批(已有 {have} 个批准,需要 {need} 个)",
            "en": "refused: {name}'s grant #{id} awaits approval ({have} of {need} approvals)",
        },
        "gov.refuse.grant_expired": {
            "zh-CN": "拒绝:{name} 的授权 #{id} 已于 {date} 到期",
            "en": "refused: {name}'s grant #{id} expired at {date}",
        },
        "gov.refuse.grant_not_yet": {
            "zh-CN": "拒绝:{name} 的授权 #{id} 自 {date} 起才生效",
            "en": "refused: {name}'s grant #{id} starts only at {date}",
        },
        "gov.refuse.grant_rejected": {
            "zh-CN": "拒绝:{name} 的授权 #{id} 已被驳回",
            "en": "refused: {name}'s grant #{id} was rejected",
        },
        "gov.refuse.grant_revoked": {
            "zh-CN": "拒绝:{name} 的授权 #{id} 已被撤销",
            "en": "refused: {name}'s grant #{id} was revoked",
        },
        "gov.refuse.grant_approvals": {
            "zh-CN": "拒绝:{name} 的授权 #{id} 需要 {need} 名不同的审批人(非申请人、非被授权人),"
            "有效批准只有 {have} 个",
            "en": "refused: {name}'s grant #{id} needs {need} distinct approvers (not its requester "
            "or grantee); it has {have} valid approvals",
        },
        "gov.refuse.grant_purpose": {
            "zh-CN": "拒绝:{name} 的授权 #{id} 的目的「{purpose}」不在任何有效保密协议的范围内",
            "en": 'refused: the purpose "{purpose}" of {name}\'s grant #{id} is outside every NDA '
            "in force",
        },
        # command output
        "gov.logged_in": {
            "zh-CN": "已登录:{name}({display}),会话有效至 {expires}",
            "en": "Logged in as {name} ({display}); session valid until {expires}",
        },
        "gov.logged_out": {"zh-CN": "{name} 已退出登录", "en": "{name} logged out"},
        "gov.not_logged_in": {"zh-CN": "当前未登录", "en": "Nobody is logged in"},
        "gov.whoami": {
            "zh-CN": "{name}({display}),{org},角色:{roles};会话有效至 {expires}",
            "en": "{name} ({display}), {org}, roles: {roles}; session valid until {expires}",
        },
        "gov.org_added": {
            "zh-CN": "已登记组织 {name}({kind})",
            "en": "Organisation {name} ({kind}) registered",
        },
        "gov.person_added": {
            "zh-CN": "已登记人员 {name},角色:{roles}",
            "en": "Person {name} registered with roles: {roles}",
        },
        "gov.roles_set": {"zh-CN": "{name} 的角色:{roles}", "en": "{name}'s roles: {roles}"},
        "gov.deactivated": {"zh-CN": "{name} 的账号已停用", "en": "{name}'s account deactivated"},
        "gov.password_set": {"zh-CN": "{name} 的密码已更新", "en": "{name}'s password changed"},
        "gov.nda_added": {
            "zh-CN": "已登记保密协议 #{id}「{title}」,状态:{status}",
            "en": 'NDA #{id} "{title}" registered; status: {status}',
        },
        "gov.nda_signed": {
            "zh-CN": "保密协议 #{id} 已标记签署,状态:{status}",
            "en": "NDA #{id} marked signed; status: {status}",
        },
        "gov.breach_recorded": {
            "zh-CN": "已记录 {person} 违反保密协议 #{id};该协议不再覆盖任何人",
            "en": "Breach of NDA #{id} by {person} recorded; the NDA no longer covers anyone",
        },
        "gov.course_imported": {
            "zh-CN": "已导入课程 {code} 第 {version} 版({n} 道题)",
            "en": "Course {code} version {version} imported ({n} questions)",
        },
        "gov.training_intro": {
            "zh-CN": "{title}:共 {n} 题,及格线 {mark:.0%}。每题输入选项字母。",
            "en": "{title}: {n} questions, pass mark {mark:.0%}. Answer each with a letter.",
        },
        "gov.training_question": {
            "zh-CN": "第 {n}/{total} 题:{prompt}",
            "en": "Question {n}/{total}: {prompt}",
        },
        "gov.training_answer": {"zh-CN": "答案({letters})", "en": "Answer ({letters})"},
        "gov.training_passed": {
            "zh-CN": "通过:{course} 得分 {score:.0%},有效期至 {expires}",
            "en": "Passed: {course} scored {score:.0%}, valid until {expires}",
        },
        "gov.training_failed": {
            "zh-CN": "未通过:{course} 得分 {score:.0%}(及格线 {mark:.0%});答错:{wrong}",
            "en": "Not passed: {course} scored {score:.0%} (pass mark {mark:.0%}); wrong: {wrong}",
        },
        "gov.vendor_registered": {
            "zh-CN": "已登记第三方 {name}",
            "en": "Vendor {name} registered",
        },
        "gov.vendor_assessed": {
            "zh-CN": "{name}:得分 {score},风险 {risk},结论 {decision},复评日期 {date}",
            "en": "{name}: score {score}, risk {risk}, decision {decision}, reassess by {date}",
        },
        "gov.grant_requested": {
            "zh-CN": "已申请授权 #{id},需要 {need} 名审批人批准",
            "en": "Grant #{id} requested; it needs {need} approver(s)",
        },
        "gov.grant_decided": {
            "zh-CN": "授权 #{id}:{status}(已批准 {have}/{need})",
            "en": "Grant #{id}: {status} ({have}/{need} approvals)",
        },
        "gov.grant_revoked": {"zh-CN": "授权 #{id} 已撤销", "en": "Grant #{id} revoked"},
        "gov.status.expiring": {
            "zh-CN": "{days} 天内到期",
            "en": "Expiring within {days} days",
        },
        "gov.status.pending": {"zh-CN": "待审批的授权", "en": "Grants awaiting approval"},
        "gov.status.refusals": {
            "zh-CN": "最近 7 天的拒绝:{n} 次",
            "en": "Refusals in the last 7 days: {n}",
        },
        "gov.status.none": {"zh-CN": "(无)", "en": "(none)"},
        "gov.none": {"zh-CN": "(无)", "en": "(none)"},
        "demo.step.governance": {
            "zh-CN": "人员、保密协议、培训与授权(访问控制)",
            "en": "People, NDAs, training and grants (access control)",
        },
        "gov.demo_step": {
            "zh-CN": "{people} 名人员,{ndas} 份有效保密协议,{grants} 项有效授权。{allowed};{refused}",
            "en": "{people} people, {ndas} NDAs in force, {grants} active grants. {allowed}; {refused}",
        },
    }
)

# errors raised by the library (``BadInput.msg(key, ...)``); names, ids and table names
# stay as they are in both languages
add(
    {
        "gov.no_person": {
            "zh-CN": "gov_people:没有名为「{name}」的人员",
            "en": "gov_people: no person named {name!r}",
        },
        "gov.no_person_id": {
            "zh-CN": "gov_people:没有 id 为 {id} 的人员",
            "en": "gov_people: no person with id {id}",
        },
        "gov.person_exists": {
            "zh-CN": "gov_people:人员「{name}」已存在",
            "en": "gov_people: {name!r} already exists",
        },
        "gov.no_org": {
            "zh-CN": "gov_organisations:没有名为「{name}」的组织",
            "en": "gov_organisations: no organisation named {name!r}",
        },
        "gov.org_exists": {
            "zh-CN": "gov_organisations:组织「{name}」已存在",
            "en": "gov_organisations: {name!r} already exists",
        },
        "gov.org_name": {
            "zh-CN": "组织名称须为 1-200 个字符",
            "en": "organisation name: 1-200 characters",
        },
        "gov.org_kind": {
            "zh-CN": "组织类型「{kind}」无效;请使用以下之一:{kinds}",
            "en": "organisation kind {kind!r}: use one of {kinds}",
        },
        "gov.bad_name": {
            "zh-CN": "登录名「{name}」无效:须为 2-64 个小写字母、数字、'.'、'_' 或 '-',并以字母开头",
            "en": "name {name!r}: use 2-64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter",
        },
        "gov.bad_role": {
            "zh-CN": "角色「{role}」无效;请使用以下之一:{roles}",
            "en": "role {role!r}: use one of {roles}",
        },
        "gov.bad_action": {
            "zh-CN": "操作「{action}」无效;请使用以下之一:{actions}",
            "en": "action {action!r}: use one of {actions}",
        },
        "gov.bad_mode": {
            "zh-CN": "访问方式「{mode}」无效;请使用以下之一:{modes}",
            "en": "mode {mode!r}: use one of {modes}",
        },
        "gov.items_bad.scope": {
            "zh-CN": "授权范围中的「{item}」无效:请使用 *、C1、C2、C3、表名或 表名.字段名",
            "en": "scope item {item!r}: use *, C1, C2, C3, a table or table.column",
        },
        "gov.items_bad.nda_scope": {
            "zh-CN": "保密协议范围中的「{item}」无效:请使用 *、C1、C2、C3、表名或 表名.字段名",
            "en": "nda scope item {item!r}: use *, C1, C2, C3, a table or table.column",
        },
        "gov.items_bad.resource": {
            "zh-CN": "访问对象中的「{item}」无效:请使用 *、C1、C2、C3、表名或 表名.字段名",
            "en": "resource item {item!r}: use *, C1, C2, C3, a table or table.column",
        },
        "gov.items_empty.scope": {
            "zh-CN": "授权范围为空:请指定 *、数据分级(C1,C2,C3)或表名",
            "en": "scope: empty; name *, tiers (C1,C2,C3) or tables",
        },
        "gov.items_empty.nda_scope": {
            "zh-CN": "保密协议范围为空:请指定 *、数据分级(C1,C2,C3)或表名",
            "en": "nda scope: empty; name *, tiers (C1,C2,C3) or tables",
        },
        "gov.items_empty.resource": {
            "zh-CN": "访问对象为空:请指定 *、数据分级(C1,C2,C3)或表名",
            "en": "resource: empty; name *, tiers (C1,C2,C3) or tables",
        },
        "gov.no_grant_id": {
            "zh-CN": "gov_grants:没有 id 为 {id} 的授权",
            "en": "gov_grants: no grant with id {id}",
        },
        "gov.nda_title": {
            "zh-CN": "保密协议标题须为 1-300 个字符",
            "en": "nda title: 1-300 characters",
        },
        "gov.no_nda_id": {
            "zh-CN": "gov_ndas:没有 id 为 {id} 的保密协议",
            "en": "gov_ndas: no NDA with id {id}",
        },
        "gov.file_missing": {"zh-CN": "{path}:文件不存在", "en": "{path}: no such file"},
        "gov.file_is_dir": {
            "zh-CN": "{path}:这是一个目录,不是已签署的协议文件",
            "en": "{path}: is a directory, not the signed document",
        },
        "gov.file_denied": {
            "zh-CN": "{path}:没有读取权限",
            "en": "{path}: not readable",
        },
        "gov.file_unreadable": {
            "zh-CN": "{path}:无法读取({reason})",
            "en": "{path}: cannot read ({reason})",
        },
        "gov.no_course": {
            "zh-CN": "gov_courses:没有课程「{code}」",
            "en": "gov_courses: no course {code!r}",
        },
        "gov.course_conflict": {
            "zh-CN": "课程 {code} 第 {version} 版已按不同内容安装;请提高课程版本号",
            "en": "course {code} version {version} is installed with other content; "
            "raise the version",
        },
        "gov.course.json": {
            "zh-CN": "{path}:不是 UTF-8 编码的 JSON({detail})",
            "en": "{path}: not UTF-8 JSON ({detail})",
        },
        "gov.course.not_object": {
            "zh-CN": "{where}:课程文件必须是一个 JSON 对象",
            "en": "{where}: a course file is a JSON object",
        },
        "gov.course.code": {
            "zh-CN": "{where}:code 须为 2-64 个字符",
            "en": "{where}: code: 2-64 characters",
        },
        "gov.course.version": {
            "zh-CN": "{where}:version 须为正整数",
            "en": "{where}: version: a positive integer",
        },
        "gov.course.pass_mark": {
            "zh-CN": "{where}:pass_mark 须大于 0 且不超过 1",
            "en": "{where}: pass_mark: in (0, 1]",
        },
        "gov.course.validity": {
            "zh-CN": "{where}:validity_days 须为 1-3660",
            "en": "{where}: validity_days: 1-3660",
        },
        "gov.course.questions": {
            "zh-CN": "{where}:questions 须为非空列表",
            "en": "{where}: questions: a non-empty list",
        },
        "gov.course.per_attempt": {
            "zh-CN": "{where}:questions_per_attempt 须在 1 与题目总数之间",
            "en": "{where}: questions_per_attempt: between 1 and the number of questions",
        },
        "gov.course.question_object": {
            "zh-CN": "{where}:第 {n} 题必须是一个对象",
            "en": "{where}: question {n} must be an object",
        },
        "gov.course.question_id": {
            "zh-CN": "{where}:第 {n} 题缺少 id,或 id 与其他题目重复",
            "en": "{where}: question {n}: missing or repeated id",
        },
        "gov.course.options": {
            "zh-CN": "{where}:第 {n} 题({qid})须有 2-{max} 个选项",
            "en": "{where}: question {n} ({qid}): 2-{max} options",
        },
        "gov.course.answer": {
            "zh-CN": "{where}:第 {n} 题({qid})的 answer 须为某个选项的序号",
            "en": "{where}: question {n} ({qid}): answer must index an option",
        },
        "gov.course.texts": {
            "zh-CN": "{where}:{field} 必须是包含 zh-CN 和 en 的对象",
            "en": "{where}: {field} must be an object with zh-CN and en",
        },
        "gov.course.text_lacks": {
            "zh-CN": "{where}:{field} 缺少 {lang} 文本",
            "en": "{where}: {field} lacks {lang}",
        },
        "gov.course.q_texts": {
            "zh-CN": "{where}:第 {n} 题({qid})的 {field} 必须是包含 zh-CN 和 en 的对象",
            "en": "{where}: question {n} ({qid}) {field} must be an object with zh-CN and en",
        },
        "gov.course.q_text_lacks": {
            "zh-CN": "{where}:第 {n} 题({qid})的 {field} 缺少 {lang} 文本",
            "en": "{where}: question {n} ({qid}) {field} lacks {lang}",
        },
        "gov.vendor.unknown_question": {
            "zh-CN": "{where}:未知问题「{question}」;可用的问题:{known}",
            "en": "{where}: unknown question {question!r}; use {known}",
        },
        "gov.vendor.missing_answer": {
            "zh-CN": "{where}:缺少问题「{question}」的答案",
            "en": "{where}: missing answer for {question!r}",
        },
        "gov.vendor.empty_answer": {
            "zh-CN": "{where}:{question} 的答案为空;请从以下选项中选择:{choices}",
            "en": "{where}: {question} is empty; answer with one of {choices}",
        },
        "gov.vendor.bad_answer": {
            "zh-CN": "{where}:{question} 的答案「{value}」无效;请从以下选项中选择:{choices}",
            "en": "{where}: {question} = {value!r}; use one of {choices}",
        },
        "gov.vendor.answers_parse": {
            "zh-CN": "{path}:不是有效的 {fmt}({detail})",
            "en": "{path}: not valid {fmt} ({detail})",
        },
        "gov.vendor.answers_object": {
            "zh-CN": "{path}:答案必须是以问题键为键的对象",
            "en": "{path}: answers must be an object of question keys",
        },
        "gov.vendor.not_registered": {
            "zh-CN": "gov_vendors:「{name}」不是已登记的第三方供应商",
            "en": "gov_vendors: {name!r} is not a registered vendor",
        },
        "gov.vendor.exists": {
            "zh-CN": "gov_vendors:「{name}」已登记为第三方供应商",
            "en": "gov_vendors: {name!r} already registered",
        },
        "gov.vendor.org_kind": {
            "zh-CN": "gov_organisations:「{name}」的组织类型为 {kind},不是第三方供应商(vendor)",
            "en": "gov_organisations: {name!r} is a {kind}, not a vendor",
        },
        "gov.demo_only": {
            "zh-CN": "{path}:演示人员只能在演示工作区中创建",
            "en": "{path}: the demo cast is only seeded in a demo workspace",
        },
    }
)
