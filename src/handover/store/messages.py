"""User-facing texts of the platform store, in zh-CN and English."""

from __future__ import annotations

from handover.i18n import add

add(
    {
        "store.unusable": {
            "zh-CN": "无法使用存储库 URL {url}:{reason}",
            "en": "cannot use store URL {url}: {reason}",
        },
        "store.unreachable": {
            "zh-CN": "无法连接存储库 {url}:{reason}",
            "en": "store {url} is unreachable: {reason}",
        },
    }
)
