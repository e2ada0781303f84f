"""Route templates as the Functions host reads them (ASP.NET Core routing syntax).

Supported: literal segments (matched case-insensitively, like the host), ``{name}``, optional
``{name?}``, defaults ``{name=value}``, catch-all ``{*rest}`` / ``{**rest}``, several parameters in
one segment (``{a}.{b}``) and inline constraints ``{id:guid}``, ``{n:int:min(1)}``,
``{code:regex(^[a-z]+$)}``. A value that fails its constraint does not match the route (so the
request ends in 404, as on the host). Unknown constraint names are accepted and ignored
(``Route.ignored_constraints`` lists them so the host can warn once).

When several routes match, the most specific wins: literal segments before constrained parameters
before plain parameters before optional ones before catch-alls, segment by segment.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


def _as_int(value: str, bounds: tuple[int, int]) -> int | None:
    if not re.fullmatch(r"[+-]?\d+", value):
        return None
    number = int(value)
    return number if bounds[0] <= number <= bounds[1] else None


def _as_float(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _args(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",")] if raw else []


def _constraint(name: str, raw_args: str | None) -> Callable[[str], bool] | None:
    """A predicate for one inline constraint, or None when the name is unknown."""
    args = _args(raw_args or "")
    simple: dict[str, Callable[[str], bool]] = {
        "int": lambda v: _as_int(v, _INT32) is not None,
        "long": lambda v: _as_int(v, _INT64) is not None,
        "bool": lambda v: v.lower() in ("true", "false"),
        "guid": _is_guid,
        "alpha": lambda v: bool(re.fullmatch(r"[A-Za-z]+", v)),
        "float": lambda v: _as_float(v) is not None,
        "double": lambda v: _as_float(v) is not None,
        "decimal": lambda v: _as_float(v) is not None,
        "datetime": _is_datetime,
        "required": lambda v: v != "",
        "nonfile": lambda v: "." not in v,
        "file": lambda v: "." in v,
    }
    lowered = name.lower()
    if lowered in simple and raw_args is None:
        return simple[lowered]
    if lowered == "regex" and raw_args is not None:
        # Route templates escape braces by doubling them ("{{2}}" is the quantifier "{2}").
        pattern = re.compile(raw_args.replace("{{", "{").replace("}}", "}"), re.IGNORECASE)
        return lambda v: pattern.search(v) is not None
    try:
        numbers = [int(a) for a in args]
    except ValueError:
        return None
    if lowered == "min" and len(numbers) == 1:
        return lambda v: (n := _as_int(v, _INT64)) is not None and n >= numbers[0]
    if lowered == "max" and len(numbers) == 1:
        return lambda v: (n := _as_int(v, _INT64)) is not None and n <= numbers[0]
    if lowered == "range" and len(numbers) == 2:
        return lambda v: (n := _as_int(v, _INT64)) is not None and numbers[0] <= n <= numbers[1]
    if lowered == "length" and len(numbers) == 1:
        return lambda v: len(v) == numbers[0]
    if lowered == "length" and len(numbers) == 2:
        return lambda v: numbers[0] <= len(v) <= numbers[1]
    if lowered == "minlength" and len(numbers) == 1:
        return lambda v: len(v) >= numbers[0]
    if lowered == "maxlength" and len(numbers) == 1:
        return lambda v: len(v) <= numbers[0]
    return None


def _split_constraints(text: str) -> list[str]:
    """``int:min(1)`` → ["int", "min(1)"]; colons inside parentheses (regexes) stay put."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == ":" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p]


@dataclass(frozen=True)
class _Param:
    name: str
    optional: bool
    default: str | None
    catch_all: bool
    checks: tuple[Callable[[str], bool], ...]


_PARAM = re.compile(r"\{([^{}]*(?:\([^()]*\)[^{}]*)*)\}")


def _parse_param(body: str, ignored: list[str]) -> _Param:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    default = None
    optional = False
    depth = 0
    for index, char in enumerate(body):  # "=default" comes last; "=" inside regex(...) is not it
        depth += (char == "(") - (char == ")")
        if char == "=" and depth == 0:
            body, default = body[:index], body[index + 1 :]
            break
    if body.endswith("?"):
        optional, body = True, body[:-1]
    name, _, constraint_text = body.partition(":")
    checks = []
    for constraint in _split_constraints(constraint_text):
        cname, paren, rest = constraint.partition("(")
        predicate = _constraint(cname, rest[:-1] if paren and rest.endswith(")") else None)
        if predicate is None:
            ignored.append(constraint)
        else:
            checks.append(predicate)
    if not name.strip():
        raise ValueError(f"route parameter without a name: {{{body}}}")
    return _Param(name.strip(), optional or catch_all, default, catch_all, tuple(checks))


@dataclass
class Route:
    """One compiled route template; ``match(path)`` gives the route parameters or None."""

    template: str
    pattern: re.Pattern[str]
    params: list[_Param]
    precedence: tuple[int, ...]
    ignored_constraints: list[str] = field(default_factory=list)

    def match(self, path: str) -> dict[str, str] | None:
        """``path`` is the request path after the route prefix, without the query string."""
        found = self.pattern.fullmatch("/" + path.strip("/") if path.strip("/") else "")
        if found is None:
            return None
        values: dict[str, str] = {}
        for index, param in enumerate(self.params):
            raw = found.group(f"p{index}")
            if raw is None or raw == "":
                if param.default is not None:
                    values[param.name] = param.default
                elif not param.optional:
                    return None
                continue
            value = unquote(raw)
            if not all(check(value) for check in param.checks):
                return None
            values[param.name] = value
        return values


def compile_route(template: str) -> Route:
    """Compile a route template (without the route prefix) into a matcher."""
    segments = [s for s in template.strip("/").split("/") if s] if template.strip("/") else []
    regex, params, precedence, ignored = [], [], [], []
    for segment in segments:
        pieces = _PARAM.split(segment)  # literal, param body, literal, param body, ...
        bodies = pieces[1::2]
        literals = pieces[0::2]
        if not bodies:
            regex.append("/" + re.escape(segment))
            precedence.append(0)
            continue
        if len(bodies) == 1 and not literals[0] and not literals[1]:
            param = _parse_param(bodies[0], ignored)
            group = f"(?P<p{len(params)}>{'.*' if param.catch_all else '[^/]+'})"
            params.append(param)
            if param.catch_all:
                regex.append(f"(?:/{group})?")
                precedence.append(4)
            elif param.optional or param.default is not None:
                regex.append(f"(?:/{group})?")
                precedence.append(3)
            else:
                regex.append("/" + group)
                precedence.append(1 if param.checks else 2)
            continue
        # A complex segment such as "{name}.{ext}": every parameter in it is required.
        part = "/"
        for index, literal in enumerate(literals):
            part += re.escape(literal)
            if index < len(bodies):
                param = _parse_param(bodies[index], ignored)
                part += f"(?P<p{len(params)}>[^/]+?)"
                params.append(param)
        regex.append(part)
        precedence.append(1)
    pattern = re.compile("".join(regex), re.IGNORECASE)
    # Fewer segments than another route with the same prefix is less specific; pad with 5.
    return Route(template, pattern, params, (*precedence, 5), ignored)
