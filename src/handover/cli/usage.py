"""Click's usage errors (an unknown option or command, a missing argument, a value its type
refuses) told as handover's own errors: one line on stderr in the user's language, naming
the option or argument, with the command's ``--help`` to look at; exit code 2 as Click's.

Click and Typer word these in English only, over three lines; the kinds of error are read
from the exception's fields, and the type checks' usual English wordings are put into
Chinese (:data:`_WHY`); a wording not known here is kept as it is, after the Chinese line.
"""

from __future__ import annotations

import importlib
import re
from typing import IO, Any

import typer
from typer.core import TyperGroup

# the Click Typer runs on (its own copy since Typer 0.29, the click package before): its
# exceptions are the ones raised here
_errors: Any = importlib.import_module(typer.BadParameter.__module__)

# (English wording of a refused value, its Chinese form): Click's types and the pydantic
# checks Typer runs for ``min=``/``max=``
_WHY: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), zh)
    for pattern, zh in (
        (r"Input should be greater than or equal to (\S+)\Z", r"须不小于 \1"),
        (r"Input should be less than or equal to (\S+)\Z", r"须不大于 \1"),
        (r"Input should be greater than (\S+)\Z", r"须大于 \1"),
        (r"Input should be less than (\S+)\Z", r"须小于 \1"),
        (r"Input should be a valid integer\b.*", "须为整数"),
        (r"Input should be a valid (?:number|float)\b.*", "须为数字"),
        (r"'(.*)' is not a valid integer(?: range)?\.\Z", r"「\1」不是整数"),
        (r"'(.*)' is not a valid float(?: range)?\.\Z", r"「\1」不是数字"),
        (r"'(.*)' is not a valid boolean(?: range)?\.\Z", r"「\1」不是是/否值"),
        (r"'(.*)' is not one of (.*)\.\Z", r"「\1」须为其中之一:\2"),
        (r"(.*) is not in the range (.*)\.\Z", r"\1 不在范围 \2 之内"),
        (r"(?:File|Directory|Path) '(.*)' does not exist\.\Z", r"「\1」不存在"),
        (r"(?:File|Directory|Path) '(.*)' is a directory\.\Z", r"「\1」是文件夹"),
        (r"(?:File|Directory|Path) '(.*)' is a file\.\Z", r"「\1」是文件"),
        (r"(?:File|Directory|Path) '(.*)' is not readable\.\Z", r"「\1」不可读"),
        (r"(?:File|Directory|Path) '(.*)' is not writable\.\Z", r"「\1」不可写"),
        (r"Option '(.*)' requires an argument\.\Z", r"选项 \1 须带一个值"),
        (r"Option '(.*)' requires (\d+) arguments\.\Z", r"选项 \1 须带 \2 个值"),
        (r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)\Z", r"多出的参数:\1"),
        (r"No such command '(.*)'\.\Z", r"没有命令 \1"),
    )
)


def why(message: str, lang: str) -> str:
    """A type check's English ``message`` in ``lang`` (as it is where no wording matches)."""
    if lang != "zh-CN":
        return message
    for pattern, zh in _WHY:
        if pattern.match(message):
            return pattern.sub(zh, message, count=1)
    return message


def _is_argument(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _name(param: Any) -> str:
    """The option's longest spelling or the argument's name, as the usage line shows it."""
    if param is None:
        return "?"
    if not _is_argument(param) and getattr(param, "opts", None):
        return str(max(param.opts, key=len))
    for attribute in ("display_name_raw", "human_readable_name", "name"):  # Typer's, Click's
        name = getattr(param, attribute, None)
        if name:
            return str(name)
    return "?"


def _lang(ctx: Any) -> str:
    """The language the command runs in: ``--lang``, else the workspace's (zh-CN where
    neither can be read)."""
    from handover.i18n import normalize_lang

    if ctx is None:
        return "zh-CN"
    root = ctx.find_root()
    try:
        asked = root.params.get("lang")
        if asked:
            return normalize_lang(asked)
        from handover.cli.common import lang_of

        return lang_of(root)
    except Exception:  # an unknown --lang, or the settings themselves failing
        return "zh-CN"


def usage_line(exc: Any, lang: str) -> str:
    """The usage error ``exc`` as one line in ``lang``: what is wrong, then where to read
    the usage."""
    from handover.i18n import t

    ctx = exc.ctx
    param = getattr(exc, "param", None)
    name = _name(param)
    near = ", ".join(getattr(exc, "possibilities", None) or [])
    no_such_command = getattr(_errors, "NoSuchCommand", ())
    if isinstance(exc, _errors.MissingParameter):
        key = "missing_argument" if _is_argument(param) else "missing_option"
        what = t(f"cli.usage.{key}", lang, name=name)
    elif isinstance(exc, _errors.NoSuchOption):
        what = t("cli.usage.no_such_option", lang, name=exc.option_name)
    elif no_such_command and isinstance(exc, no_such_command):
        what = t("cli.usage.no_such_command", lang, name=exc.command_name)
    elif isinstance(exc, _errors.BadParameter) and param is not None:
        what = t("cli.usage.bad_value", lang, name=name, why=why(exc.message, lang))
    else:  # a wording put into the language stands alone; another is marked as usage
        reason = why(exc.message, lang)
        what = t("cli.usage.other", lang, why=reason) if reason == exc.message else reason
    if near:
        what += t("cli.usage.near", lang, near=near)
    path = ctx.command_path if ctx is not None else "handover"
    return f"{t('error.prefix', lang)}: {what}{t('cli.usage.help', lang, command=path)}"


class UsageTold(_errors.UsageError):  # type: ignore[misc]
    """A usage error as :func:`usage_line` tells it (Click shows it and exits with 2)."""

    def __init__(self, line: str, ctx: Any, exit_code: int) -> None:
        super().__init__(line, ctx)
        self.exit_code = exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        typer.echo(self.message, file=file, err=True)


def _told(exc: Any) -> Any:
    """``exc`` in the user's language, except a group's own help (no command given)."""
    if isinstance(exc, UsageTold | getattr(_errors, "NoArgsIsHelpError", ())):
        return exc
    return UsageTold(usage_line(exc, _lang(exc.ctx)), exc.ctx, exc.exit_code)


class HandoverGroup(TyperGroup):
    """The root command: usage errors of any command beneath it are :func:`_told`."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _errors.UsageError as exc:
            raise _told(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _errors.UsageError as exc:
            raise _told(exc) from None


__all__ = ["HandoverGroup", "UsageTold", "usage_line", "why"]
