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
