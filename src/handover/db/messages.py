"""User-facing texts of the database layer, in zh-CN and English."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "db.not_url": {
            "zh-CN": "{url}:不是数据库 URL(请使用 postgresql://、mysql://、sqlite:///…)",
            "en": "{url}: not a database URL (use postgresql://, mysql://, sqlite:///…)",
        },
    }
)
