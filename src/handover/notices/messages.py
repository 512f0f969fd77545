"""User-facing texts of ``handover notices`` (zh-CN and English)."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "notices.not_people_table": {
            "zh-CN": "表 {table} 不是客户信息表(需有姓名列及身份证号、手机号或电子邮箱列);可选:{tables}",
            "en": "table {table} is not a people table (it needs a name column and a resident ID, "
            "mobile or e-mail column); people tables: {tables}",
        },
        "notices.no_people": {
            "zh-CN": "扫描清单中没有客户信息表(姓名列及身份证号、手机号或电子邮箱列);请先运行 handover scan",
            "en": "the scan inventory has no people table (a name column with a resident ID, "
            "mobile or e-mail column); run handover scan first",
        },
        "notices.bad_kind": {
            "zh-CN": "未知的模板类型 {kind}(可选:{kinds})",
            "en": "unknown template kind {kind} (use {kinds})",
        },
        "notices.template_syntax": {
            "zh-CN": "模板 {name} 第 {line} 行语法错误",
            "en": "template {name}: syntax error on line {line}",
        },
        "notices.template_unknown": {
            "zh-CN": "模板 {name} 使用了未知变量 {var}(可用:{allowed})",
            "en": "template {name} uses the unknown variable {var} (known: {allowed})",
        },
        "notices.template_missing": {
            "zh-CN": "模板 {name} 缺少法定告知要素 {var}({law})",
            "en": "template {name} misses the required element {var} ({law})",
        },
        "notices.template_unreadable": {
            "zh-CN": "无法读取模板 {path}({reason})",
            "en": "cannot read the template {path} ({reason})",
        },
        "notices.content_missing": {
            "zh-CN": "告知要素 {var} 没有内容({law});请在 --content 文件或工作区 [transfer] 中填写",
            "en": "element {var} has no text ({law}); give it in the --content file or the workspace's [transfer]",
        },
        "notices.sms_too_long": {
            "zh-CN": "短信长 {chars} 字,超过服务商上限 {limit} 字",
            "en": "the SMS has {chars} characters, more than the provider's limit of {limit}",
        },
        "notices.default.legal_basis": {
            "zh-CN": "{seller} 的股权/业务转让予 {buyer}(《个人信息保护法》第二十二条规定的合并、分立等情形)",
            "en": "transfer of {seller} (shares or business) to {buyer}, a merger or acquisition under PIPL Art. 22",
        },
        "notices.default.methods": {
            "zh-CN": "收集、存储、使用、加工、传输;以加密方式保存和传输,按最小必要原则授权访问",
            "en": "collection, storage, use, processing and transmission; stored and moved encrypted, accessed on a least-privilege basis",
        },
        "notices.default.retention": {
            "zh-CN": "贷款合同履行期间及结清后法律法规要求的期限,期满删除或匿名化",
            "en": "for the life of the loan contract and the period the law requires after it ends; then deleted or anonymised",
        },
        "notices.default.rights": {
            "zh-CN": "您有权查阅、复制、更正、补充、删除您的个人信息,有权撤回同意,并有权对处理提出异议或限制、拒绝处理",
            "en": "you may access, copy, correct, complete and delete your personal information, withdraw your consent, and object to, restrict or refuse its processing",
        },
        "notices.default.rights_where": {
            "zh-CN": "发送电子邮件至 {email},或回复本短信/邮件,或书面致函 {buyer};我们将在十五个工作日内答复",
            "en": "e-mail {email}, reply to this message, or write to {buyer}; we answer within fifteen working days",
        },
        "notices.default.changes": {
            "zh-CN": "处理目的和处理方式不变;如需变更,{buyer} 将另行告知并重新取得您的同意",
            "en": "the purposes and methods of processing do not change; should they change, {buyer} will tell you and ask for your consent again",
        },
        "notices.default.obligations": {
            "zh-CN": "{buyer} 将继续履行原个人信息处理者的全部义务",
            "en": "{buyer} continues every obligation of the handler until now",
        },
        "notices.subject.notice": {
            "zh-CN": "个人信息转移告知({seller})",
            "en": "Notice of the transfer of your personal information ({seller})",
        },
        "notices.subject.consent": {
            "zh-CN": "个人信息新用途同意征询({buyer})",
            "en": "Your consent to a new purpose ({buyer})",
        },
        "notices.letter.to": {"zh-CN": "{name} 收", "en": "{name}"},
        "notices.letter.date": {"zh-CN": "日期:{date}", "en": "Date: {date}"},
        "notices.letter.batch": {
            "zh-CN": "告知函(共 {n} 封,供邮件合并打印)",
            "en": "Notice letters ({n}, for mail merge)",
        },
        "notices.letters_folder": {
            "zh-CN": "无法写入告知函目录 {path}({reason});未写入的告知函保持待发送",
            "en": "cannot write the letters folder {path} ({reason}); unwritten letters stay pending",
        },
        "notices.announced": {
            "zh-CN": "告知活动 {id}:公告已生成({unreachable} 位无法个别通知的客户):{files}",
            "en": "campaign {id}: announcement written (for {unreachable} people not reachable one by one): {files}",
        },
        "notices.reported": {
            "zh-CN": "告知活动 {id}:报告已生成:{files}",
            "en": "campaign {id}: report written: {files}",
        },
        "notices.bad_kind_campaign": {
            "zh-CN": "未知的活动类型 {kind}(可选:{kinds})",
            "en": "unknown campaign kind {kind} (use {kinds})",
        },
        "notices.consent_needs_purpose": {
            "zh-CN": "同意征询活动需用 --new-purpose 写明新的处理目的(个人信息保护法第十四条、第二十二条)",
            "en": "a consent campaign needs the new purpose in --new-purpose (PIPL Art. 14, 22)",
        },
        "notices.not_consent": {
            "zh-CN": "告知活动 {id} 不是同意征询活动;同意/不同意只记录在同意征询活动中",
            "en": "campaign {id} is no consent campaign; yes/no answers belong to a consent campaign",
        },
        "notices.bad_reply_kind": {
            "zh-CN": "未知的回复类型 {kind}(可选:{kinds})",
            "en": "unknown reply kind {kind} (use {kinds})",
        },
        "notices.reply_who": {
            "zh-CN": "请用 --reference(告知编号)、--mobile 或 --email 中的一项指明本人",
            "en": "name the person with exactly one of --reference (the notice reference), --mobile or --email",
        },
        "notices.reply_unknown_person": {
            "zh-CN": "告知活动 {id} 中找不到 {what} 对应的收件人",
            "en": "campaign {id} has no recipient matching that {what}",
        },
        "notices.replied": {
            "zh-CN": "告知活动 {id}:已记录 {kind}(收件人 {recipient})",
            "en": "campaign {id}: {kind} recorded (recipient {recipient})",
        },
        "notices.reply_again": {
            "zh-CN": "告知活动 {id}:此回复此前已记录,未重复记录",
            "en": "campaign {id}: this reply was recorded before; not recorded twice",
        },
        "notices.replies_line": {
            "zh-CN": "告知活动 {id}:记录 {recorded} 条回复,重复 {duplicate},无法对应收件人 {unmatched};{kinds}",
            "en": "campaign {id}: {recorded} replies recorded, {duplicate} seen before, {unmatched} matching no recipient; {kinds}",
        },
        "notices.replies_unreadable": {
            "zh-CN": "无法读取短信回复 {path}({reason})",
            "en": "cannot read the SMS replies {path} ({reason})",
        },
        "notices.reply.objection": {"zh-CN": "反对处理", "en": "objection"},
        "notices.reply.opt_out": {"zh-CN": "退订", "en": "opt-out"},
        "notices.reply.deletion": {"zh-CN": "删除请求", "en": "deletion request"},
        "notices.reply.consent_yes": {"zh-CN": "同意", "en": "consent: yes"},
        "notices.reply.consent_no": {"zh-CN": "不同意", "en": "consent: no"},
        "notices.reply.other": {"zh-CN": "其他(需人工处理)", "en": "other (for a person to read)"},
        "notices.no_campaign": {
            "zh-CN": "没有编号为 {id} 的告知活动",
            "en": "no notice campaign {id}",
        },
        "notices.content_unreadable": {
            "zh-CN": "无法读取告知内容文件 {path}({reason})",
            "en": "cannot read the content file {path} ({reason})",
        },
        "notices.content_unknown": {
            "zh-CN": "{path}:未知的告知要素 {key}(可用:{known})",
            "en": "{path}: unknown element {key} (known: {known})",
        },
        "notices.bad_channel": {
            "zh-CN": "未知的告知渠道 {channel}(可选:{channels})",
            "en": "unknown channel {channel} (use {channels})",
        },
        "notices.already_queued": {
            "zh-CN": "告知活动 {id} 已入队,不会重复入队",
            "en": "campaign {id} is already queued; it is never queued twice",
        },
        "notices.busy": {
            "zh-CN": "告知活动 {id} 正由进程 {pid} 发送;请等待其结束",
            "en": "campaign {id} is being sent by process {pid}; wait for it to end",
        },
        "notices.started": {
            "zh-CN": "告知活动 {id} 已开始发送;用 --resume 继续(不会重复发送)",
            "en": "campaign {id} was already started; use --resume to continue it (nothing is sent twice)",
        },
        "notices.source_changed": {
            "zh-CN": "告知活动 {id} 入队后数据源 {source} 已变化(收件人或地址不同);请为新数据新建告知活动",
            "en": "the source {source} changed since campaign {id} was queued (recipients or addresses differ); create a new campaign for the new data",
        },
        "notices.not_approved": {
            "zh-CN": "告知活动 {id} 尚未获批(授权 {grant}:{state});需由制单人以外的审批人批准",
            "en": "campaign {id} is not approved (grant {grant}: {state}); an approver other than its maker must approve it",
        },
        "notices.no_smtp": {
            "zh-CN": "告知活动 {id} 含电子邮件渠道,请提供 --smtp-host 和 --sender",
            "en": "campaign {id} sends e-mail: give --smtp-host and --sender",
        },
        "notices.channel_later": {
            "zh-CN": "未提供渠道 {channel} 的服务商(短信:--sms-endpoint 等);其告知保持待发送,稍后用 --resume 发送",
            "en": "no provider given for {channel} (SMS: --sms-endpoint …); its notices stay pending, send them later with --resume",
        },
        "notices.smtp_auth": {
            "zh-CN": "SMTP 服务器 {server} 拒绝了登录(用户名或口令错误)",
            "en": "the SMTP server {server} refused the login (user name or password wrong)",
        },
        "notices.smtp_no_tls": {
            "zh-CN": "SMTP 服务器 {server} 不支持 STARTTLS 或 AUTH",
            "en": "the SMTP server {server} does not offer STARTTLS or AUTH",
        },
        "notices.smtp_down": {
            "zh-CN": "无法连接 SMTP 服务器 {server}({reason});未发送的告知保持待发送",
            "en": "cannot reach the SMTP server {server} ({reason}); unsent notices stay pending",
        },
        "notices.created": {
            "zh-CN": "已创建告知活动 {id}({tables} 张客户信息表);发送前需审批授权 {grant}:handover notices approve {id}",
            "en": "campaign {id} created ({tables} people tables); grant {grant} must be approved before sending: handover notices approve {id}",
        },
        "notices.approved": {
            "zh-CN": "告知活动 {id}:授权状态 {state}(已批准 {have}/{need})",
            "en": "campaign {id}: grant {state} ({have}/{need} approvals)",
        },
        "notices.bad_security": {
            "zh-CN": "未知的 SMTP 安全方式 {value}(可选:{values})",
            "en": "unknown SMTP security {value} (use {values})",
        },
        "notices.sent_line": {
            "zh-CN": "{channel}:已发送 {sent},待重试 {retry},失败 {failed},重发在途 {in_doubt}",
            "en": "{channel}: sent {sent}, to retry {retry}, failed {failed}, in-flight resent {in_doubt}",
        },
        "notices.sent_total": {
            "zh-CN": "告知活动 {id}:待发送 {pending},无法送达 {unreachable} 行(见报告)",
            "en": "campaign {id}: {pending} pending, {unreachable} rows unreachable (see the report)",
        },
        "notices.status_title": {
            "zh-CN": "告知活动 {id}:{name}",
            "en": "Campaign {id}: {name}",
        },
        "notices.col.channel": {"zh-CN": "渠道", "en": "Channel"},
        "notices.col.state": {"zh-CN": "状态", "en": "State"},
        "notices.col.count": {"zh-CN": "数量", "en": "Count"},
        "notices.sms_down": {
            "zh-CN": "无法连接短信服务商 {server}({reason});未发送的告知保持待发送",
            "en": "cannot reach the SMS provider {server} ({reason}); unsent notices stay pending",
        },
        "notices.sms_auth": {
            "zh-CN": "短信服务商 {server} 拒绝了 AccessKey({code})",
            "en": "the SMS provider {server} refused the AccessKey ({code})",
        },
        "notices.sms_refused": {
            "zh-CN": "短信服务商 {server} 拒绝发送({code});请检查短信签名和模板,未发送的告知保持待发送",
            "en": "the SMS provider {server} refused to send ({code}); check the signature and template; unsent notices stay pending",
        },
        "notices.no_sms": {
            "zh-CN": "告知活动 {id} 含短信渠道,请提供 --sms-endpoint、--sms-key-id、--sms-sign 和 --sms-template(密钥放在 HANDOVER_SMS_SECRET)",
            "en": "campaign {id} sends SMS: give --sms-endpoint, --sms-key-id, --sms-sign and --sms-template (the secret in HANDOVER_SMS_SECRET)",
        },
        "notices.receipts_line": {
            "zh-CN": "告知活动 {id}:送达 {delivered},未送达 {undelivered},忽略 {ignored}",
            "en": "campaign {id}: delivered {delivered}, undelivered {undelivered}, ignored {ignored}",
        },
        "notices.receipts_unreadable": {
            "zh-CN": "无法读取回执 {path}({reason})",
            "en": "cannot read the receipts {path} ({reason})",
        },
        "notices.reason.no_contact": {
            "zh-CN": "无任何联系方式(手机号、电子邮箱、地址均缺失)",
            "en": "no contact at all (mobile, e-mail and address missing)",
        },
        "notices.reason.invalid_contact": {
            "zh-CN": "联系方式无效(手机号号段、电子邮箱格式或地址不合规)",
            "en": "contact invalid (mobile prefix, e-mail syntax or address not usable)",
        },
    }
)
