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
        (r"Option '(.*)' does not take a value\.\Z", r"选项 \1 不带值"),
        (r"No such command '(.*)'\.\Z", r"没有命令 \1"),
        (r"No such command '(.*)'\. Did you mean '(.*)'\?\Z", r"没有命令 \1(是否想用:\2)"),
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


def _asked_lang(args: list[str], valued: set[str]) -> str | None:
    """The value of ``--lang`` among the root's own ``args`` (read by hand: an error in
    the root's options comes before Click has read any of them); ``valued``, the root's
    options that take a value."""
    words = iter(args)
    for arg in words:
        if arg == "--lang":
            return next(words, None)
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
        if arg in valued:
            next(words, None)
        elif not arg.startswith("-"):  # the command: what follows is its own
            return None
    return None


def _lang(ctx: Any, asked: str | None = None) -> str:
    """The language the command runs in: ``--lang`` (``asked`` where the root's options
    could not be read), else the workspace's; zh-CN where neither can be read."""
    from handover.i18n import normalize_lang

    try:
        asked = asked or (ctx.find_root().params.get("lang") if ctx is not None else None)
        if asked:
            return normalize_lang(asked)
        if ctx is None:
            return "zh-CN"
        from handover.cli.common import lang_of

        return lang_of(ctx.find_root())
    except Exception:  # an unknown --lang, or the settings themselves failing
        return "zh-CN"


def usage_line(exc: Any, lang: str, path: str) -> str:
    """The usage error ``exc`` as one line in ``lang``: what is wrong, then where to read
    the usage (``path --help``)."""
    from handover.i18n import t

    ctx = getattr(exc, "ctx", None)
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
    if ctx is not None:
        path = ctx.command_path
    return f"{t('error.prefix', lang)}: {what}{t('cli.usage.help', lang, command=path)}"


class UsageTold(_errors.UsageError):  # type: ignore[misc]
    """A usage error as :func:`usage_line` tells it (Click shows it and exits with 2)."""

    def __init__(self, line: str, ctx: Any, exit_code: int) -> None:
        super().__init__(line, ctx)
        self.exit_code = exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        typer.echo(self.message, file=file, err=True)


#: what is told as it is: a group's own help (no command given; Click 8.2 and later)
_AS_IT_IS = (
    UsageTold,
    *[getattr(_errors, n) for n in ("NoArgsIsHelpError",) if hasattr(_errors, n)],
)


def _told(exc: Any, lang: str, path: str) -> Any:
    """``exc`` in ``lang``, the usage to read under ``path`` where the error names no
    command (Click's parser raises some without their context)."""
    if isinstance(exc, _AS_IT_IS):
        return exc
    return UsageTold(usage_line(exc, lang, path), exc.ctx, exc.exit_code)


class HandoverGroup(TyperGroup):
    """The root command: usage errors of any command beneath it are :func:`_told`."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        given = list(args)  # Click's parser takes the words out of args as it reads them
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _errors.UsageError as exc:
            valued = {o for p in self.params if not getattr(p, "is_flag", False) for o in p.opts}
            lang = _lang(exc.ctx, _asked_lang(given, valued))
            raise _told(exc, lang, info_name or "handover") from None

    def invoke(self, ctx: Any) -> Any:
        # the commands named on the line, for an error raised without its context
        named = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        try:
            return super().invoke(ctx)
        except _errors.UsageError as exc:
            raise _told(exc, _lang(exc.ctx or ctx), self._path(ctx, named)) from None

    def _path(self, ctx: Any, named: list[str]) -> str:
        """The command the words ``named`` lead to from the root, as the usage shows it."""
        words: list[str] = [ctx.command_path]
        command: Any = self
        for word in named:
            sub = command.get_command(ctx, word) if hasattr(command, "get_command") else None
            if sub is None:
                break
            words.append(word)
            command = sub
        return " ".join(words)


__all__ = ["HandoverGroup", "UsageTold", "usage_line", "why"]
