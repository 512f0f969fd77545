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
