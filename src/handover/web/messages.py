"""zh-CN / English texts of the web console (``web.*``)."""

from __future__ import annotations

from handover.i18n import add


def _both(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


add(
    {
        "web.title": _both("交接控制台", "handover console"),
        "web.footer": _both(
            "每一步操作均记入防篡改审计账本",
            "every action is recorded in the tamper-evident ledger",
        ),
        "web.skip": _both("跳到正文", "skip to content"),
        "web.logout": _both("退出登录", "log out"),
        "web.filter": _both("筛选", "filter"),
        "web.yes": _both("是", "yes"),
        "web.no": _both("否", "no"),
        "web.valid": _both("签名有效", "signature valid"),
        "web.invalid_sig": _both("签名无效", "signature INVALID"),
        "web.pages": _both("分页", "pages"),
        "web.prev": _both("上一页", "previous"),
        "web.next": _both("下一页", "next"),
        "web.days_left": _both("还剩 {n} 天", "{n} days left"),
        "web.days_over": _both("已过期 {n} 天", "{n} days overdue"),
        # navigation
        "web.nav.label": _both("主导航", "main navigation"),
        "web.nav.dashboard": _both("总览", "Dashboard"),
        "web.nav.inventory": _both("个人信息清单", "Inventory"),
        "web.nav.grants": _both("授权与审批", "Grants"),
        "web.nav.ledger": _both("审计账本", "Ledger"),
        "web.nav.account": _both("我的账号", "My account"),
        "web.nav.jobs": _both("后台任务", "Jobs"),
        # errors
        "web.csrf": _both(
            "请求被拒绝:缺少或无效的防跨站请求令牌(CSRF),请刷新页面后重试",
            "request refused: missing or invalid CSRF token; reload the page and try again",
        ),
        "web.login_needed": _both(
            "需要先登录(POST /api/login 获取令牌)", "log in first (POST /api/login for a token)"
        ),
        "web.throttled": _both(
            "登录失败次数过多,请 {minutes} 分钟后再试",
            "too many failed logins; try again in {minutes} minutes",
        ),
        "web.not_found": _both("页面不存在", "no such page"),
        "web.http_error": _both(
            "请求无法处理(HTTP {status})", "the request cannot be served (HTTP {status})"
        ),
        "web.invalid": _both("输入无效:{fields}", "invalid input: {fields}"),
        "web.internal": _both(
            "内部错误(handover 的缺陷,已拒绝该请求,未泄露任何数据)",
            "internal error (a bug in handover; the request was refused, nothing was disclosed)",
        ),
        "web.error.title": _both("无法完成({status})", "Not done ({status})"),
        "web.error.back": _both("返回", "back"),
        # login
        "web.login.title": _both("登录", "Log in"),
        "web.login.name": _both("用户名", "Login name"),
        "web.login.password": _both("密码", "Password"),
        "web.login.submit": _both("登录", "Log in"),
        "web.login.hint": _both(
            "与 handover login 使用同一账号;会话 8 小时后或闲置 30 分钟后失效。",
            "The same accounts as handover login; a session ends after 8 hours or 30 idle minutes.",
        ),
        # dashboard
        "web.dash.stages": _both("交接阶段", "Stages of the transfer"),
        "web.dash.closing": _both("交割日", "closing"),
        "web.dash.evidence": _both("证据 #{seq}", "evidence #{seq}"),
        "web.dash.pending": _both("待审批授权", "Grants awaiting approval"),
        "web.dash.grants": _both("授权状态", "Grants by state"),
        "web.dash.refusals": _both("近 7 天拒绝访问", "Refusals, last 7 days"),
        "web.dash.deadlines": _both("30 天内到期", "Deadlines within 30 days"),
        "web.dash.no_deadlines": _both("30 天内没有到期事项", "nothing ends within 30 days"),
        "web.dash.kind": _both("类别", "kind"),
        "web.dash.what": _both("事项", "what"),
        "web.dash.who": _both("涉及", "who"),
        "web.dash.ends": _both("到期日", "ends"),
        "web.dash.left": _both("剩余", "left"),
        "web.deadline.nda": _both("保密协议", "NDA"),
        "web.deadline.training": _both("培训", "training"),
        "web.deadline.vendor": _both("第三方复评", "vendor reassessment"),
        "web.deadline.grant": _both("授权", "grant"),
        "web.stage.inventory": _both("清单", "Inventory"),
        "web.stage.pia": _both("影响评估", "PIA"),
        "web.stage.grants": _both("授权", "Grants"),
        "web.stage.seal": _both("加密封装", "Seal"),
        "web.stage.migrate": _both("迁移", "Migrate"),
        "web.stage.verify": _both("核验", "Verify"),
        "web.stage.notices": _both("告知", "Notices"),
        "web.stage.shred": _both("销毁", "Shred"),
        "web.stage.dossier": _both("归档", "Dossier"),
        "web.status.done": _both("已完成", "done"),
        "web.status.failed": _both("未通过", "failed"),
        "web.status.not_started": _both("未开始", "not started"),
        "web.status.unavailable": _both("尚未提供", "not available yet"),
        "web.chart.tiers": _both(
            "各表字段的个人金融信息分级(JR/T 0171)", "Columns per table by tier (JR/T 0171)"
        ),
        "web.chart.caption": _both("来自第 {scan} 次扫描。", "From scan {scan}."),
        "web.tier.C3": _both("C3 鉴别信息", "C3 authentication"),
        "web.tier.C2": _both("C2 可识别", "C2 identifying"),
        "web.tier.C1": _both("C1 内部", "C1 internal"),
        "web.tier.none": _both("非个人信息", "no PII"),
        # inventory
        "web.inv.none": _both(
            "尚无清单:请先运行 handover scan", "no inventory yet: run handover scan first"
        ),
        "web.inv.source": _both("第 {scan} 次扫描:{source}", "scan {scan}: {source}"),
        "web.inv.search": _both("搜索", "Search"),
        "web.inv.all": _both("全部", "all"),
        "web.inv.table": _both("表", "Table"),
        "web.inv.column": _both("字段", "Column"),
        "web.inv.db_type": _both("类型", "Type"),
        "web.inv.types": _both("个人信息类型", "PII types"),
        "web.inv.tier": _both("分级", "Tier"),
        "web.inv.level": _both("级别", "Level"),
        "web.inv.sensitive": _both("敏感", "Sensitive"),
        "web.inv.sensitive_only": _both("仅敏感个人信息", "sensitive only"),
        "web.inv.evidence": _both("依据与脱敏示例", "Evidence and masked examples"),
        "web.inv.count": _both("显示 {shown} / {total} 个字段", "{shown} of {total} columns"),
        "web.inv.show_examples": _both(
            "显示脱敏示例(需授权,记入账本)", "show masked examples (needs a grant; recorded)"
        ),
        "web.inv.examples_shown": _both(
            "已显示脱敏示例(已记入账本)", "masked examples shown (recorded)"
        ),
        # grants
        "web.grants.list": _both("授权", "Grants"),
        "web.grants.grantee": _both("被授权人", "Grantee"),
        "web.grants.scope": _both("范围", "Scope"),
        "web.grants.scope_hint": _both(
            "*、C1,C2,C3、表名或 表.字段,逗号分隔",
            "*, C1,C2,C3, tables or table.column, comma-separated",
        ),
        "web.grants.mode": _both("方式", "Mode"),
        "web.grants.purpose": _both("目的", "Purpose"),
        "web.grants.maker": _both("申请人", "Requested by"),
        "web.grants.approvals": _both("审批", "Approvals"),
        "web.grants.until": _both("有效至", "Valid until"),
        "web.grants.state": _both("状态", "State"),
        "web.grants.act": _both("操作", "Actions"),
        "web.grants.approve": _both("批准", "Approve"),
        "web.grants.reject": _both("驳回", "Reject"),
        "web.grants.revoke": _both("撤销", "Revoke"),
        "web.grants.rule": _both(
            "双人原则:申请人与被授权人不能审批;明文访问可能涉及 C3 时需两名不同审批人。",
            "Maker-checker: neither the requester nor the grantee may approve; clear access "
            "that may reach C3 needs two different approvers.",
        ),
        "web.grants.request": _both("申请授权", "Request a grant"),
        "web.grants.days": _both("有效天数", "Days valid"),
        "web.grants.actions": _both("限定操作(可不选)", "Limit to actions (optional)"),
        "web.grants.submit": _both("提交申请", "Request"),
        "web.grants.check": _both("检查权限", "Check access"),
        "web.grants.action": _both("操作", "Action"),
        "web.grants.resource": _both("资源", "Resource"),
        "web.grants.check_submit": _both("检查(记入账本)", "Check (recorded)"),
        "web.grants.allowed": _both("允许 {action} {resource}:", "allowed {action} {resource}:"),
        "web.grants.refused": _both("拒绝 {action} {resource}:", "refused {action} {resource}:"),
        "web.grants.done.requested": _both(
            "已提交授权申请 #{id},等待审批", "grant #{id} requested; it awaits approval"
        ),
        "web.grants.done.approve": _both("已批准授权 #{id}", "grant #{id} approved"),
        "web.grants.done.reject": _both("已驳回授权 #{id}", "grant #{id} rejected"),
        "web.grants.done.revoke": _both("已撤销授权 #{id}", "grant #{id} revoked"),
        "web.grant_state.active": _both("生效", "active"),
        "web.grant_state.pending": _both("待审批", "pending"),
        "web.grant_state.not_yet": _both("未到生效期", "not yet valid"),
        "web.grant_state.expired": _both("已过期", "expired"),
        "web.grant_state.rejected": _both("已驳回", "rejected"),
        "web.grant_state.revoked": _both("已撤销", "revoked"),
        "web.mode.masked": _both("脱敏", "masked"),
        "web.mode.tokenised": _both("令牌化", "tokenised"),
        "web.mode.clear": _both("明文", "clear"),
        # ledger
        "web.ledger.actor": _both("操作人", "Actor"),
        "web.ledger.action": _both("动作", "Action"),
        "web.ledger.subject": _both("对象", "Subject"),
        "web.ledger.since": _both("起始日期", "From"),
        "web.ledger.until": _both("截止日期", "To"),
        "web.ledger.time": _both("时间(北京时间)", "Time (Beijing)"),
        "web.ledger.purpose": _both("目的", "Purpose"),
        "web.ledger.leaf": _both("叶哈希", "Leaf hash"),
        "web.ledger.details": _both("详情", "Details"),
        "web.ledger.count": _both(
            "{matching} 条匹配,账本共 {size} 条", "{matching} matching of {size} entries"
        ),
        "web.ledger.checkpoints": _both("签名检查点", "Signed checkpoints"),
        "web.ledger.size": _both("树大小", "Tree size"),
        "web.ledger.root": _both("根哈希", "Root hash"),
        "web.ledger.issued": _both("签发时间", "Issued"),
        "web.ledger.signature": _both("签名", "Signature"),
        "web.ledger.entry": _both("账本记录 #{seq}", "Ledger entry #{seq}"),
        "web.ledger.proof": _both("包含证明(RFC 6962)", "Inclusion proof (RFC 6962)"),
        "web.ledger.included": _both(
            "已验证:记录 #{seq} 包含在大小为 {size} 的树中",
            "verified: entry #{seq} is included in the tree of size {size}",
        ),
        "web.ledger.not_included": _both(
            "验证失败:无法证明记录 #{seq} 包含在账本中",
            "FAILED: entry #{seq} cannot be proven in the ledger",
        ),
        "web.ledger.cp_valid": _both(
            "检查点签名有效(工作区签名密钥)", "checkpoint signature valid (workspace signing key)"
        ),
        "web.ledger.cp_invalid": _both("检查点签名无效", "checkpoint signature INVALID"),
        "web.ledger.cp_mismatch": _both(
            "签名内容与存储的树(大小 {size})不符",
            "the signed text does not state the stored tree (size {size})",
        ),
        "web.ledger.unproven": _both("记录 #{seq} 无法证明", "entry #{seq} cannot be proven"),
        "web.ledger.checkpoint_note": _both(
            "检查点(C2SP 签名注记)", "Checkpoint (C2SP signed note)"
        ),
        "web.ledger.back": _both("返回账本", "back to the ledger"),
        # jobs
        "web.jobs.scan": _both("扫描数据源(后台运行)", "Scan a source (runs in the background)"),
        "web.jobs.source": _both("数据源", "Source"),
        "web.jobs.source_hint": _both(
            "工作区内的文件或目录(如 seller.db),或数据库 URL;需要 scan.evidence 授权",
            "a file or folder inside the workspace (e.g. seller.db), or a database URL; "
            "needs a scan.evidence grant",
        ),
        "web.jobs.start": _both("开始扫描(记入账本)", "Start the scan (recorded)"),
        "web.jobs.list": _both("任务", "Jobs"),
        "web.jobs.kind": _both("类型", "Kind"),
        "web.jobs.kind.scan": _both("扫描", "scan"),
        "web.jobs.started": _both("开始", "Started"),
        "web.jobs.finished": _both("结束", "Finished"),
        "web.jobs.steps": _both("已完成步骤", "Steps done"),
        "web.jobs.title": _both("任务 #{id}", "Job #{id}"),
        "web.jobs.back": _both("返回任务列表", "back to the jobs"),
        "web.jobs.status.running": _both("运行中", "running"),
        "web.jobs.status.done": _both("已完成", "done"),
        "web.jobs.status.failed": _both("失败", "failed"),
        "web.jobs.status.interrupted": _both("已中断", "interrupted"),
        "web.jobs.scan_done": _both(
            "扫描完成:{tables} 张表,{columns} 个字段,其中个人信息 {pii} 个。",
            "scan done: {tables} tables, {columns} columns, {pii} with personal information.",
        ),
        "web.jobs.outside": _both(
            "{source}:控制台只能扫描工作区 {workspace} 内已存在的文件或目录,或数据库 URL",
            "{source}: the console scans only an existing file or folder inside the "
            "workspace {workspace}, or a database URL",
        ),
        "web.jobs.none": _both("没有编号为 {id} 的任务", "no job {id}"),
        "web.jobs.failed_text": _both("任务失败:{text}", "the job failed: {text}"),
        "web.jobs.internal": _both(
            "任务因内部错误失败({kind},handover 的缺陷)",
            "the job failed on an internal error ({kind}, a bug)",
        ),
        "web.jobs.interrupted": _both(
            "运行该任务的控制台已停止,任务未完成;请重新开始",
            "the console running this job stopped before it finished; start it again",
        ),
        # account
        "web.account.name": _both("姓名", "Name"),
        "web.account.org": _both("机构", "Organisation"),
        "web.account.roles": _both("角色", "Roles"),
        "web.account.expires": _both("会话到期", "Session expires"),
        "web.account.sessions": _both("我的会话", "My sessions"),
        "web.account.started": _both("开始", "Started"),
        "web.account.seen": _both("最近活动", "Last seen"),
        "web.account.this": _both("当前", "this one"),
        "web.account.revoke": _both("结束会话", "End session"),
    }
)
