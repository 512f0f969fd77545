"""User-facing texts of the database layer, in zh-CN and English."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "db.unusable": {
            "zh-CN": "无法使用 {url}:{reason}",
            "en": "cannot use {url}: {reason}",
        },
        "db.unreachable": {
            "zh-CN": "无法连接 {url}:{reason}",
            "en": "{url} is unreachable: {reason}",
        },
        "db.not_url": {
            "zh-CN": "{url}:不是数据库 URL(请使用 postgresql://、mysql://、sqlite:///…)",
            "en": "{url}: not a database URL (use postgresql://, mysql://, sqlite:///…)",
        },
    }
)
