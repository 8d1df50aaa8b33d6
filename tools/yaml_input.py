"""YAML written by people (the configuration, the policy, runbooks, ``medic act --param``) read
with bounded work: a size limit, a nesting limit, a limit on the nodes aliases expand to (a
"billion laughs" alias bomb is refused before anything walks it), no recursive aliases, integers
of sane length, finite numbers, and only JSON's types (a date stays text; ``!!binary``, ``!!set``
and other tags are refused). Every failure is one ``YamlInputError`` line naming the source and,
where YAML knows it, the line and column.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1_048_576  # a configuration, policy or runbook file
MAX_DEPTH = 64  # nesting of mappings and sequences
MAX_NODES = 100_000  # nodes after every alias is expanded
MAX_NUMBER_CHARS = 64  # an integer or float written with more characters is not a setting

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_REFUSED_TAGS = ("binary", "set", "omap", "pairs", "timestamp")


# More flow collections opened than the nesting limit, none closed between them: refused before
# PyYAML's scanner sees it (it looks up to 1,024 characters ahead at every level, ~1 s here).
_OPENED = r"[\[{][^\[\]{}\n]{0,32}"  # an opening bracket, then no bracket for a while
_DEEP_FLOW = re.compile(f"(?:{_OPENED}){{{MAX_DEPTH + 1}}}")


class YamlInputError(ValueError):
    """YAML that cannot be read within the bounds, or is not YAML: one line, saying why."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting nesting and expanded nodes while it composes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._expanded: dict[int, int] = {}  # id(node) -> nodes it expands to, once composed

    def _count(self, nodes: int, node_mark: yaml.Mark | None) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"expands to more than {MAX_NODES:,} nodes (an alias bomb?)", node_mark
            )

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            anchored = self.anchors.get(event.anchor)
            if anchored is not None:
                size = self._expanded.get(id(anchored))
                if size is None:
                    raise yaml.composer.ComposerError(
                        None, None, f"alias *{event.anchor} refers to itself", event.start_mark
                    )
                self._count(size, event.start_mark)
            return super().compose_node(parent, index)
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", mark
            )
        before = self._nodes
        self._count(1, mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._expanded[id(node)] = self._nodes - before
        return node


def _number(constructor: Any) -> Any:
    def construct(loader: _BoundedLoader, node: yaml.ScalarNode) -> Any:
        if len(node.value) > MAX_NUMBER_CHARS:
            raise yaml.constructor.ConstructorError(
                None, None, f"a number of more than {MAX_NUMBER_CHARS} characters", node.start_mark
            )
        value = constructor(loader, node)
        if isinstance(value, float) and not math.isfinite(value):
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value} is not a finite number", node.start_mark
            )
        return value

    return construct


def _refused(loader: _BoundedLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, f"{node.tag} values are not supported here", node.start_mark
    )


# Dates and times stay text (JSON has no such type, and no setting needs one).
_BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _kind in ("int", "float"):
    _tag = f"tag:yaml.org,2002:{_kind}"
    _BoundedLoader.add_constructor(_tag, _number(yaml.SafeLoader.yaml_constructors[_tag]))
for _kind in _REFUSED_TAGS:
    _BoundedLoader.add_constructor(f"tag:yaml.org,2002:{_kind}", _refused)


def read_bounded(path: Path, source: str, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of the file at ``path``, never more than ``max_bytes`` read: a file named by
    mistake that has no end (``/dev/zero``, ``/dev/urandom``) or is gigabytes long is refused
    after the bound instead of filling the memory. OSError as ``open`` raises it."""
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)
        if len(data) > max_bytes:
            size = os.fstat(file.fileno()).st_size
            told = f"{size:,} bytes" if size > max_bytes else f"longer than {max_bytes:,} bytes"
            raise YamlInputError(f"{source} is {told}; at most {max_bytes:,} are read")
    return data


def load_yaml(text: str | bytes, source: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """The data in ``text`` (from ``source``, named in errors), read within the bounds above."""
    try:
        size = len(text.encode() if isinstance(text, str) else text)
    except UnicodeEncodeError as exc:  # a lone surrogate: bytes that were not UTF-8 (argv)
        raise YamlInputError(f"{source} is not UTF-8 text (character {exc.start})") from exc
    if size > max_bytes:
        raise YamlInputError(f"{source} is {size:,} bytes; at most {max_bytes:,} are read")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = text[exc.start : exc.start + 1]
            raise YamlInputError(f"{source} is not UTF-8 text (byte {exc.start}: {bad!r})") from exc
    deep = _DEEP_FLOW.search(text)
    if deep is not None:
        line = text.count("\n", 0, deep.start()) + 1
        raise YamlInputError(
            f"{source} is not valid YAML: line {line}: nested deeper than {MAX_DEPTH} levels"
        )
    try:
        loader = _BoundedLoader(text)  # the reader refuses control characters here already
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise YamlInputError(f"{source} is not valid YAML: {_describe(exc)}") from exc
    except yaml.YAMLError as exc:
        raise YamlInputError(f"{source} is not valid YAML: {' '.join(str(exc).split())}") from exc


def _describe(exc: yaml.MarkedYAMLError) -> str:
    problem = " ".join(f"{exc.context or ''} {exc.problem or ''}".split())
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return problem
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
