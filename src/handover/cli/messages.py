"""User-facing texts of the command-line adapter itself (zh-CN and English)."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "cli.init_parties": {
            "zh-CN": "init 需要同时提供 --seller(卖方)和 --buyer(买方)",
            "en": "init needs both --seller and --buyer",
        },
        "cli.unseal_target": {
            "zh-CN": "unseal 需要 --to 目标(或使用 --check-only 仅校验)",
            "en": "unseal needs --to TARGET (or --check-only)",
        },
        "cli.bad_date": {
            "zh-CN": "{option}「{value}」不是有效日期;请使用 2027-01-31 这样的格式",
            "en": "{option} {value!r}: use a date like 2027-01-31",
        },
        "cli.bad_since": {
            "zh-CN": "--since「{value}」不是 ISO 8601 格式的日期或时间",
            "en": "--since {value!r}: not an ISO 8601 date or time",
        },
    }
)

# Human output of commands (``--json`` output stays as the library returns it).
add(
    {
        "cli.keys.state.active": {"zh-CN": "使用中", "en": "active"},
        "cli.keys.state.destroyed": {"zh-CN": "已销毁", "en": "destroyed"},
        "cli.keys.version": {
            "zh-CN": "第 {version} 版  创建于 {created}",
            "en": "v{version}  {created}",
        },
        "cli.keys.version_public": {
            "zh-CN": "第 {version} 版  创建于 {created}  公钥 {public_key}",
            "en": "v{version}  {created}  public key {public_key}",
        },
        "cli.keys.destroyed": {
            "zh-CN": "已于 {when} 销毁,理由:{reason}",
            "en": "destroyed {when}: {reason}",
        },
        "cli.gov.inactive": {"zh-CN": "(已停用)", "en": " (inactive)"},
        "cli.gov.course": {
            "zh-CN": "{code:<16} v{version}  {questions} 题  有效期 {days} 天  {title}",
            "en": "{code:<16} v{version}  {questions}q  {days}d  {title}",
        },
        "cli.gov.passed": {"zh-CN": "通过", "en": "pass"},
        "cli.gov.failed": {"zh-CN": "未通过", "en": "fail"},
        "cli.progress.rate": {"zh-CN": "{rate:,.0f} 行/秒", "en": "{rate:,.0f} rows/s"},
        "cli.progress.rejected": {"zh-CN": "{n} 行被拒", "en": "{n} rejected"},
        "cli.progress.bad_mode": {
            "zh-CN": "--progress {mode} 无效:可选 {modes}",
            "en": "--progress {mode} is not valid: choose {modes}",
        },
    }
)
