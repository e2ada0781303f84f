"""A recursive-descent parser and compiler for the ``$filter`` subset Dataverse clients use.

Supported: ``eq ne gt ge lt le and or not``, parentheses, string literals with ``''`` escaping,
numbers, ``true/false/null``, GUID and date/time literals, ``contains/startswith/endswith``,
``tolower/toupper``, single-valued navigation paths (``sdkmessageid/name``), lambdas
``any/all`` over collection navigation (nested), parameter aliases (``@p``) and the Dataverse
query functions ``Microsoft.Dynamics.CRM.In/NotIn/Null/NotNull``. String comparison is
case-insensitive, as in Dataverse.

:func:`compile_filter` turns the text into ``predicate(row) -> bool`` for a :class:`Resolver`,
which says how to read columns and follow navigation properties of the rows being filtered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from .errors import bad_request

Getter = Callable[[Any, dict[str, Any]], Any]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
    | (?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?(?![\w-]))
    | (?P<number>-?\d+(?:\.\d+)?(?:[mMdDfFlL])?(?![\w-]))
    | (?P<punct>[(),:\[\]=/{}])
    | (?P<name>[@A-Za-z_$][\w.$]*)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}


class Resolver(Protocol):
    """How to read the rows being filtered. Implemented for tables and for metadata lists."""

    type_name: str

    def column(self, name: str) -> Callable[[Any], Any] | None:
        """Accessor for a column, or None when the name is no column."""

    def single_nav(self, name: str) -> tuple[Resolver, Callable[[Any], Any]] | None:
        """(resolver of the target, row -> related row or None) for a lookup navigation."""

    def collection_nav(self, name: str) -> tuple[Resolver, Callable[[Any], Iterable[Any]]] | None:
        """(resolver of the target, row -> related rows) for a collection navigation."""


class _Lit:
    __slots__ = ("kind", "value")

    def __init__(self, value: Any, kind: str = "value") -> None:
        self.value, self.kind = value, kind


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise bad_request(f"Syntax error at position {pos} in '{text}'.")
        pos = match.end()
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
    return tokens


class _Parser:
    def __init__(self, text: str, aliases: Mapping[str, str]) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.aliases = aliases

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise bad_request(f"Syntax error: unexpected end of '{self.text}'.")
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        _, got = self.take()
        if got != value:
            raise bad_request(f"Syntax error: expected '{value}' but found '{got}' in '{self.text}'.")

    def at_keyword(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "name" and token[1] == word

    def parse(self) -> tuple:
        node = self.parse_or()
        if self.peek() is not None:
            raise bad_request(f"Syntax error at '{self.peek()[1]}' in '{self.text}'.")  # type: ignore[index]
        return node

    def parse_or(self) -> tuple:
        node = self.parse_and()
        while self.at_keyword("or"):
            self.take()
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self) -> tuple:
        node = self.parse_not()
        while self.at_keyword("and"):
            self.take()
            node = ("and", node, self.parse_not())
        return node

    def parse_not(self) -> tuple:
        if self.at_keyword("not"):
            self.take()
            return ("not", self.parse_not())
        return self.parse_comparison()

    def parse_comparison(self) -> tuple:
        left = self.parse_primary()
        token = self.peek()
        if token and token[0] == "name" and token[1] in _COMPARISONS:
            self.take()
            return ("cmp", token[1], left, self.parse_primary())
        return left

    def parse_literal(self, kind: str, value: str) -> tuple | None:
        if kind == "string":
            return ("lit", _Lit(value[1:-1].replace("''", "'")))
        if kind == "guid":
            return ("lit", _Lit(value.lower(), "guid"))
        if kind == "datetime":
            return ("lit", _Lit(_to_datetime(value), "datetime"))
        if kind == "number":
            digits = value.rstrip("mMdDfFlL")
            return ("lit", _Lit(float(digits) if "." in digits else int(digits)))
        if kind == "name" and value in ("true", "false", "null"):
            return ("lit", _Lit({"true": True, "false": False, "null": None}[value]))
        if kind == "name" and value.startswith("@"):
            if value[1:] not in self.aliases and value not in self.aliases:
                raise bad_request(f"The parameter alias '{value}' is not defined.")
            raw = self.aliases.get(value, self.aliases.get(value[1:], ""))
            inner = _Parser(raw, {})
            return inner.parse_primary()
        return None

    def parse_primary(self) -> tuple:
        kind, value = self.take()
        if value == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if value == "[":
            items = []
            while self.peek() and self.peek()[1] != "]":  # type: ignore[index]
                items.append(self.parse_primary())
                if self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                    self.take()
            self.expect("]")
            return ("list", items)
        literal = self.parse_literal(kind, value)
        if literal is not None:
            return literal
        if kind != "name":
            raise bad_request(f"Syntax error at '{value}' in '{self.text}'.")
        nxt = self.peek()
        if nxt and nxt[1] == "(":
            return self.parse_call(value)
        segments = [value]
        while self.peek() and self.peek()[1] == "/":  # type: ignore[index]
            self.take()
            _, segment = self.take()
            if segment in ("any", "all") and self.peek() and self.peek()[1] == "(":  # type: ignore[index]
                return self.parse_lambda(segments, segment)
            segments.append(segment)
        return ("path", segments)

    def parse_lambda(self, segments: list[str], kind: str) -> tuple:
        self.expect("(")
        if self.peek() and self.peek()[1] == ")":  # type: ignore[index]
            self.take()
            return ("lambda", segments, kind, None, None)
        _, var = self.take()
        self.expect(":")
        body = self.parse_or()
        self.expect(")")
        return ("lambda", segments, kind, var, body)

    def parse_call(self, name: str) -> tuple:
        self.expect("(")
        args: list[tuple] = []
        named: dict[str, tuple] = {}
        while self.peek() and self.peek()[1] != ")":  # type: ignore[index]
            if self.peek(1) and self.peek(1)[1] == "=" and self.peek()[0] == "name":  # type: ignore[index]
                _, key = self.take()
                self.take()
                named[key] = self.parse_primary()
            else:
                args.append(self.parse_or())
            if self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                self.take()
        self.expect(")")
        return ("call", name, args, named)


def _to_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_filter(text: str, aliases: Mapping[str, str] | None = None) -> tuple:
    """Parse ``$filter`` text into an AST; raises a 400 ODataError on syntax errors."""
    return _Parser(text, aliases or {}).parse()


def compile_filter(
    text: str, resolver: Resolver, aliases: Mapping[str, str] | None = None
) -> Callable[[Any], bool]:
    """Compile ``$filter`` text into ``predicate(row)`` for rows described by ``resolver``."""
    ast = parse_filter(text, aliases)
    fn = _Compiler(resolver).compile(ast, {})
    return lambda row: fn(row, {}) is True


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _compare(op: str, left: Any, right: Any) -> bool | None:
    if op == "eq":
        return _norm(left) == _norm(right)
    if op == "ne":
        return _norm(left) != _norm(right)
    if left is None or right is None:
        return False
    a, b = _norm(left), _norm(right)
    try:
        if op == "gt":
            return a > b
        if op == "ge":
            return a >= b
        if op == "lt":
            return a < b
        return a <= b
    except TypeError:
        return False


class _Compiler:
    def __init__(self, root: Resolver) -> None:
        self.root = root

    def compile(self, node: tuple, scope: dict[str, Resolver]) -> Getter:
        kind = node[0]
        if kind == "lit":
            value = node[1].value
            return lambda row, env: value
        if kind == "list":
            items = [self.compile(n, scope) for n in node[1]]
            return lambda row, env: [f(row, env) for f in items]
        if kind == "and":
            left, right = self.compile(node[1], scope), self.compile(node[2], scope)
            return lambda row, env: left(row, env) is True and right(row, env) is True
        if kind == "or":
            left, right = self.compile(node[1], scope), self.compile(node[2], scope)
            return lambda row, env: left(row, env) is True or right(row, env) is True
        if kind == "not":
            inner = self.compile(node[1], scope)
            return lambda row, env: not inner(row, env)
        if kind == "cmp":
            return self.compile_comparison(node, scope)
        if kind == "path":
            return self.compile_path(node[1], scope)[0]
        if kind == "lambda":
            return self.compile_lambda(node, scope)
        if kind == "call":
            return self.compile_call(node, scope)
        raise bad_request(f"Unsupported filter expression {kind}.")

    def compile_comparison(self, node: tuple, scope: dict[str, Resolver]) -> Getter:
        op, left_node, right_node = node[1], node[2], node[3]
        left, right = self.compile(left_node, scope), self.compile(right_node, scope)
        as_datetime = any(n[0] == "lit" and n[1].kind == "datetime" for n in (left_node, right_node))
        if as_datetime:

            def conv(value: Any) -> Any:
                if isinstance(value, str):
                    try:
                        return _to_datetime(value)
                    except ValueError:
                        return value
                return value

            return lambda row, env: _compare(op, conv(left(row, env)), conv(right(row, env)))
        return lambda row, env: _compare(op, left(row, env), right(row, env))

    def _start(self, segments: list[str], scope: dict[str, Resolver]) -> tuple[Resolver, Getter, list[str]]:
        if segments[0] in scope:
            var = segments[0]
            return scope[var], (lambda row, env: env.get(var)), segments[1:]
        if segments[0] == "$it":
            return self.root, (lambda row, env: row), segments[1:]
        return self.root, (lambda row, env: row), segments

    def _walk(self, resolver: Resolver, current: Getter, segments: list[str]) -> tuple[Resolver, Getter]:
        for segment in segments:
            nav = resolver.single_nav(segment)
            if nav is None:
                raise bad_request(
                    f"Could not find a property named '{segment}' on type '{resolver.type_name}'."
                )
            resolver, follow = nav
            current = (lambda prev, f: lambda row, env: None if (r := prev(row, env)) is None else f(r))(
                current, follow
            )
        return resolver, current

    def compile_path(self, segments: list[str], scope: dict[str, Resolver]) -> tuple[Getter, Resolver]:
        resolver, current, rest = self._start(segments, scope)
        if not rest:
            return current, resolver
        resolver, current = self._walk(resolver, current, rest[:-1])
        column = resolver.column(rest[-1])
        if column is None:
            raise bad_request(f"Could not find a property named '{rest[-1]}' on type '{resolver.type_name}'.")
        return (lambda row, env: None if (r := current(row, env)) is None else column(r)), resolver

    def compile_lambda(self, node: tuple, scope: dict[str, Resolver]) -> Getter:
        _, segments, kind, var, body = node
        resolver, current, rest = self._start(segments, scope)
        resolver, current = self._walk(resolver, current, rest[:-1])
        nav = resolver.collection_nav(rest[-1]) if rest else None
        if nav is None:
            raise bad_request(
                f"Could not find a property named '{rest[-1] if rest else ''}' on type "
                f"'{resolver.type_name}'."
            )
        target, related = nav
        if body is None:
            return lambda row, env: (r := current(row, env)) is not None and any(True for _ in related(r))
        predicate = self.compile(body, {**scope, var: target})

        def evaluate(row: Any, env: dict[str, Any]) -> bool:
            owner = current(row, env)
            if owner is None:
                return False
            matches = (predicate(row, {**env, var: item}) is True for item in related(owner))
            return any(matches) if kind == "any" else all(matches)

        return evaluate

    def compile_call(self, node: tuple, scope: dict[str, Resolver]) -> Getter:
        _, name, args, named = node
        short = name.rsplit(".", 1)[-1].lower()
        if short in ("contains", "startswith", "endswith") and len(args) == 2:
            hay, needle = self.compile(args[0], scope), self.compile(args[1], scope)
            test = {"contains": lambda h, n: n in h, "startswith": str.startswith, "endswith": str.endswith}[
                short
            ]

            def text_match(row: Any, env: dict[str, Any]) -> bool:
                h, n = hay(row, env), needle(row, env)
                if not isinstance(h, str) or not isinstance(n, str):
                    return False
                return bool(test(h.casefold(), n.casefold()))

            return text_match
        if short in ("tolower", "toupper", "trim") and len(args) == 1:
            inner = self.compile(args[0], scope)
            method = {"tolower": str.lower, "toupper": str.upper, "trim": str.strip}[short]
            return lambda row, env: method(v) if isinstance(v := inner(row, env), str) else v
        if name.startswith("Microsoft.Dynamics.CRM.") and "PropertyName" in named:
            prop_node = named["PropertyName"]
            if prop_node[0] != "lit" or not isinstance(prop_node[1].value, str):
                raise bad_request(f"{name}: PropertyName must be a string literal.")
            column = self.compile_path(prop_node[1].value.split("/"), scope)[0]
            if short in ("in", "notin"):
                values_node = named.get("PropertyValues")
                if values_node is None or values_node[0] != "list":
                    raise bad_request(f"{name}: PropertyValues must be a list.")
                wanted = {_norm(self.compile(n, scope)(None, {})) for n in values_node[1]}
                wanted |= {str(v).casefold() for v in wanted if not isinstance(v, str)}
                positive = short == "in"

                def member(row: Any, env: dict[str, Any]) -> bool:
                    value = column(row, env)
                    hit = _norm(value) in wanted or (value is not None and str(value).casefold() in wanted)
                    return hit if positive else not hit

                return member
            if short == "null":
                return lambda row, env: column(row, env) is None
            if short == "notnull":
                return lambda row, env: column(row, env) is not None
        raise bad_request(f"The function '{name}' is not supported by the emulator.")
