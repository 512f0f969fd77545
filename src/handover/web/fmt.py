"""Dates, times and numbers as each language writes them (the console's only formatting)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from handover.i18n import normalize_lang

#: the transfer happens in mainland China: times are shown in Beijing time, labelled
ZONE = ZoneInfo("Asia/Shanghai")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _local(value: dt.datetime) -> dt.datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(ZONE)


def date(value: dt.date | dt.datetime | str | None, lang: str) -> str:
    """``2026年12月4日`` (zh-CN) or ``4 Dec 2026`` (en); a datetime in Beijing time."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        value = _parse(value)
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    if normalize_lang(lang) == "zh-CN":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"


def datetime(value: dt.datetime | str | None, lang: str) -> str:
    """Date and minute in Beijing time: ``2026年12月4日 13:33`` / ``4 Dec 2026 13:33``."""
    if value is None or value == "":
        return "-"
    when = _parse(value) if isinstance(value, str) else value
    if not isinstance(when, dt.datetime):
        return date(when, lang)
    local = _local(when)
    return f"{date(local.date(), lang)} {local:%H:%M}"


def number(value: int | float | None, lang: str, digits: int = 0) -> str:
    """Grouped digits (``1,234,567``; both languages group by thousands)."""
    if value is None:
        return "-"
    del lang  # zh-CN and en both group by three with commas
    return f"{value:,.{digits}f}" if digits else f"{round(value):,}"


def _parse(text: str) -> dt.date | dt.datetime:
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return dt.date.min
