"""Log template mining with Drain3, and what changed between a baseline and an incident window.

Messages are masked first (``knowledge.masking``). A fast path keeps that rare: one C-speed byte
translation deletes every digit and hex letter, leaving a line's *skeleton* ("took 12 ms for
u-5f3e" and "took 715 ms for u-9a1b" share one: numbers, hex and UUID ids of any length vanish),
and a skeleton seen before maps straight to its masked message and cluster, so only a line of a
never-seen shape pays for the 13 masking rules and a walk of Drain's tree: ingest cost grows with
distinct message shapes, not lines. The digits of a source location (``Class#123``) stay in the
skeleton, as the masks keep them too. The price: words that differ only in the letters a-f ("add",
"bad") share a skeleton, so such lines share the template first mined for that shape.

Drain merges messages of equal length that differ in a few tokens. That is right for variables the
masks missed, wrong for words: "VM Paused" and "VM Resumed" are different events, and so are two
log statements whose source locations (``Class#123``) differ. So a line's template keeps the source
locations Drain wildcarded, and the plain words of a slot that behaves like a closed set of events,
judged on the system's own lines: at most ``word_values`` (3) distinct tokens fill it among the
lines of one statement, and it never holds a number or an id there. A slot filled by many words
(user names, hosts, programs) or by words and numbers alike is a variable: keeping its words would
split one event into as many templates as there are users. Runs of placeholders collapse to one (a
variable that spans a varying number of tokens is still one variable), and a template that is
another's with a variable spelled in more tokens ("for user john smith" of "for user <*>": Drain
mines each token count apart) takes the other's identity (``GapMerge``). Issue 13 chose these
rules on loghub systems held out from the choice (``benchmarks/generalization/templates.py``).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, deque
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from drain3 import TemplateMiner as Drain3Miner
from drain3.drain import Drain
from drain3.template_miner_config import TemplateMinerConfig

from knowledge.logs import LogLine
from knowledge.masking import MASK_NAMES, masking_instructions

LEVEL_ORDER = {"FATAL": 0, "CRITICAL": 0, "ERROR": 1, "WARN": 2, "WARNING": 2}
ERROR_LEVELS = frozenset({"FATAL", "CRITICAL", "ERROR", "WARN", "WARNING"})
_MASK = re.compile(r"<[A-Z]+>|<\*>")
_PLACEHOLDER = re.compile(r"^<(?:[A-Z]+|\*)>$")
_LOCATION = re.compile(r"^[A-Za-z_$][\w.$]*#\d+$")  # a logger's source location: Class#123
_FIELD = re.compile(r"^[A-Za-z_][\w.-]{0,63}=")  # the key of a key=value token
_WORD = re.compile(r"^[A-Za-z]+[.:,;]?$|^=$")  # a plain word, or an empty key=value's value
_SPACES = re.compile(r"\s+")
CACHE_LIMIT = 200_000
# A log event is named in its head; what follows a thousand characters is a payload dump (a 16 KB
# response body, a serialised object). Mining only the head keeps the masks' cost per line bounded
# and lets such lines share a skeleton, where each dump's words would otherwise make it new.
MINED_CHARS = 1000
EMBEDDED_WORDS = 16
_VARIABLE = b"0123456789abcdefABCDEF"
_LIST = re.compile(r"<([A-Z]+)>(?:,<\1>)+")
# a JSON line longer than this is mined as text: parsing is bounded like the masks' work
JSON_CHARS = 64_000
_DIGITS = re.compile(r"\d*")


def skeleton(text: str) -> bytes:
    """The shape of a line: digits and hex letters removed, source locations kept."""
    key = text.encode("utf-8", "surrogatepass").translate(None, _VARIABLE)
    mark = text.find("#")
    if mark < 0:
        return key
    locations = []
    while mark >= 0:
        digits = _DIGITS.match(text, mark + 1)
        locations.append(digits.group() if digits else "")
        mark = text.find("#", mark + 1)
    return key + b"#" + ",".join(locations).encode()


def _head(text: str) -> str:
    """The first ``MINED_CHARS`` of a message, cut at a space, the rest one placeholder."""
    if len(text) <= MINED_CHARS:
        return text
    cut = text.rfind(" ", 0, MINED_CHARS)
    return text[: cut if cut > 0 else MINED_CHARS] + " <*>"


def is_error(template: str) -> bool:
    """Whether a template is warning-or-worse (its level leads it)."""
    return template.split(" ", 1)[0].upper() in ERROR_LEVELS


def readable(template: str) -> str:
    """A template without its placeholders, for embedding: 'Request payload bytes exceeds ...'."""
    return _SPACES.sub(" ", _MASK.sub(" ", template)).strip()


def embedding_text(template: str) -> str:
    """What is embedded of a template: its readable head. A log event is named in its first words
    (level, logger, method, message); what follows is mostly a masked payload, which costs the
    model time (all-MiniLM-L6-v2 reads up to 256 word pieces) and says little."""
    return " ".join(readable(template).split()[:EMBEDDED_WORDS])


@dataclass(frozen=True)
class MinerSettings:
    """The choices the miner makes, so that they can be compared on systems they were not made
    on (``benchmarks/generalization/templates.py``). The defaults are Medic's."""

    similarity: float = 0.5  # Drain: share of equal tokens for a line to join a cluster
    depth: int = 5  # Drain: tree depth; the first depth-3 tokens route a line
    max_children: int = 100  # Drain: a tree node's branches before other tokens share "<*>"
    masks: tuple[str, ...] = MASK_NAMES
    delimiters: tuple[str, ...] = ("=", ":", ",")
    # A position Drain wildcarded keeps its words (an event: "VM Paused", "VM Resumed") when at
    # most this many distinct tokens fill it among one statement's lines, else it is a variable
    # (user names, hosts); None keeps them all, 0 none. Chosen on held-out systems (issue 13).
    word_values: int | None = 3
    # ... and it is a variable when it holds a word in one line and a number or an id in another
    mixed_slots: bool = True
    # One of the first tokens, which Drain's tree splits on (so no cluster ever sees its values
    # vary), is a variable when more than this many values fill it among templates otherwise
    # equal (and naming the event in at least two words); None: never.
    routed_values: int | None = 8
    # A template is an instance of another when the other's constant tokens align with it in
    # order and what lies between them fills the other's placeholders, one placeholder taking
    # at least ``gap_span`` tokens somewhere (a variable spelled in more tokens: "for user
    # john smith" of "for user <*>"), with at least ``GapMerge.CONTEXT_WORDS`` plain words
    # around; None: never (each token count stays its own template, as Drain mines them).
    # Chosen on held-out loghub systems, three views (issue 13): 1 in every fold.
    gap_span: int | None = 1
    # ``key=value`` tokens kept whole and their value masked (``knowledge.masking``
    # ``KEY_VALUE_RULES``: "variable" or "all"), or judged by the slot rules as any variable
    # ("evidence"); meant with ``=`` not among ``delimiters``, so a logfmt header is one token
    # per field, not two; None: no such mask. Not chosen on held-out systems (issue 13).
    key_values: str | None = None
    # Leading tokens identical in at least this share of a source's distinct messages are its
    # constant prefix (a logfmt header's ``ts=<TIMESTAMP> level=info``), not counted in Drain's
    # similarity (``ConstantPrefix``); None: every token counts, as in Drain. Chosen with
    # ``header_values`` on held-out loghub systems, four views (issue 13, third pass).
    prefix_share: float | None = 0.95
    # ... and a leading column holding at most this many distinct tokens among the source's
    # distinct messages (a host, a level: a closed set that says nothing of the event) is part
    # of that prefix as well (``ConstantPrefix``); None: only constant columns. Meant with
    # ``prefix_share``, which sets the evidence needed. Chosen in 8 of 10 folds (issue 13).
    header_values: int | None = 5
    # ... a closed (not constant) column counts only once the source has this many distinct
    # messages (None: as many as ``prefix_share`` asks of a constant one, 20), so a burst of one
    # event at start-up ("generating core.<name>" x16) is not read as a header column; and
    header_evidence: int | None = None
    # ... only while the token after it varies independently of it (some token there follows at
    # least two of its values): a host or a level does not predict what follows, a message's
    # first word does. Candidates of the fourth pass on headers (issue 13).
    header_independent: bool = False
    # A message mined while its source's prefix was longer than it now is (a column read as a
    # header that later messages showed is not closed) is matched again over the tokens the
    # prefix now leaves, and joins the cluster Drain would give it then (``ConstantPrefix``);
    # a candidate of the fifth pass on headers (issue 13).
    header_revisit: bool = False
    # A run of one placeholder joined by commas (``<IP>,<IP>``: a client list) is one variable,
    # so a list's length does not change the token count Drain mines by; fifth pass.
    value_lists: bool = False
    # A line that is one JSON object is mined as its fields (``key=value``, string values
    # unquoted), adjacent string fields that together are a timestamp joined; fifth pass.
    json_fields: bool = False
    # Each source chooses the three switches above for itself (``SOURCE_POOL``), the first time
    # its lines are resolved together (``templates_of``, ``compare``): its first
    # ``choice_window`` lines are mined under each combination and the one giving the fewest
    # templates ("templates"; "description": the smallest ``description_length``) mines the
    # source from then on; a tie keeps the earlier. No label is read, so nothing is fitted to a
    # corpus. None: the switches as set. Kept by the sixth pass on headers (issue 13): chosen
    # in 9 of 10 folds, four-view outer 0.869 -> 0.877. The choices are saved with the Drain3
    # state (``knowledge.template_state``), so a source chooses once, not once per incident.
    source_choice: str | None = "templates"
    choice_window: int = 1000


# (header_revisit, value_lists, json_fields) a source chooses among (the fifth pass's (d), (g),
# (h), (g+h), (q), (g+h+q)), in the order a tie keeps
SOURCE_POOL: tuple[tuple[bool, bool, bool], ...] = (
    (False, False, False),
    (True, False, False),
    (False, True, False),
    (True, True, False),
    (False, False, True),
    (True, True, True),
)
SOURCE_CRITERIA = ("templates", "description")


def _switches(settings: MinerSettings) -> tuple[bool, bool, bool]:
    return (settings.header_revisit, settings.value_lists, settings.json_fields)


def default_config(settings: MinerSettings | None = None) -> TemplateMinerConfig:
    """Drain3's configuration for ``settings`` (Medic's by default: generic masks, similarity
    0.5, depth 5, and ``=``, ``:`` and ``,`` as extra token delimiters for key=value, "status:
    200" and lists)."""
    settings = settings or MinerSettings()
    config = TemplateMinerConfig()
    config.masking_instructions = masking_instructions(settings.masks, settings.key_values)
    config.mask_prefix, config.mask_suffix = "<", ">"
    config.drain_sim_th = settings.similarity
    config.drain_depth = settings.depth
    config.drain_max_children = settings.max_children
    config.drain_extra_delimiters = list(settings.delimiters)
    config.profiling_enabled = False
    return config


def template_key(
    template_tokens: Sequence[str],
    message_tokens: Sequence[str],
    variables: Container[int] = (),
) -> str:
    """The template of one message in a Drain cluster: the cluster's tokens, with the source
    locations and plain words the cluster wildcarded put back (words only outside the positions
    in ``variables``), runs of placeholders collapsed into one."""
    same_shape = len(template_tokens) == len(message_tokens)
    out: list[str] = []
    for i, token in enumerate(template_tokens):
        value = message_tokens[i] if token == "<*>" and same_shape else token
        field = _FIELD.match(value) if token == "<*>" else None
        word = value[field.end() :] if field else value
        restored = _LOCATION.match(value) or (i not in variables and _WORD.match(word or "="))
        # a wildcarded key=value token (``=`` not a delimiter) keeps its key as a token of its
        # own: the field names the event's slot ("tty= <*> rhost= <*>" is not "rhost= <*>
        # user= <*>"), and the value is a placeholder like any other
        if restored or not field:
            out.append(value if restored else token)
        else:
            out += [field.group(), "<*>"]
    return " ".join(_collapsed(out))


_EVERYWHERE: Container[int] = range(1 << 30)
_NOWHERE: frozenset[int] = frozenset()


@dataclass
class _Slot:
    """What fills one token position among one statement's lines: up to ``limit + 1`` distinct
    values (enough to tell an open set), and whether a word and a non-word were both seen."""

    values: set[str]
    word: bool = False
    other: bool = False

    def add(self, value: str, limit: int) -> None:
        if len(self.values) <= limit:
            self.values.add(value)
        field = _FIELD.match(value)
        if _WORD.match(value[field.end() :] or "=" if field else value):
            self.word = True
        else:
            self.other = True


class RoutedSlots:
    """Variables among the first tokens of templates, which Drain's tree routes on.

    Drain sends lines whose first tokens differ down different branches, so a user name or a
    host in those tokens splits one event into a cluster per value, and no cluster sees the
    value vary. Across templates it shows: many templates equal but for that token. When more
    than ``limit`` values fill it, and the rest names the event in at least
    ``CONTEXT_WORDS`` plain words, the token is a variable. Source locations are never merged:
    they name a statement. Every template ever resolved counts, so identities stay stable
    across calls (a baseline and an incident window resolved apart agree)."""

    CONTEXT_WORDS = 2

    def __init__(self, positions: int, limit: int | None, spelling: dict[str, str]) -> None:
        self._positions = positions
        self._limit = limit
        self._spelling = spelling
        self._known: set[str] = set()
        self._values: dict[tuple[int, tuple[str, ...]], set[str]] = {}
        self._merged: dict[str, str] = {}  # valid until the next new template

    def _slots(self, tokens: list[str]) -> Iterable[tuple[int, tuple[str, ...]]]:
        for i in range(min(self._positions, len(tokens))):
            token = tokens[i]
            if not _PLACEHOLDER.match(token) and not _LOCATION.match(token):
                field = _FIELD.match(token)  # key=value: the value is the slot, "key= <*>"
                fill = f"{field.group()} <*>" if field else "<*>"
                yield i, (*tokens[:i], fill, *tokens[i + 1 :])

    def add(self, key: str) -> None:
        if self._limit is None or key in self._known:
            return
        self._known.add(key)
        self._merged.clear()
        tokens = key.split(" ")
        for slot in self._slots(tokens):
            self._values.setdefault(slot, set()).add(tokens[slot[0]])

    def merged(self, key: str) -> str:
        """``key`` with its routed variables as ``<*>``."""
        if self._limit is None:
            return key
        merged = self._merged.get(key)
        if merged is None:
            merged = self._merged[key] = self._merge(key, self._limit)
        return merged

    def _merge(self, key: str, limit: int) -> str:
        tokens = key.split(" ")
        variables = [
            i
            for i, rest in self._slots(tokens)
            if len(self._values.get((i, rest), ())) > limit
            and sum(1 for t in rest if _WORD.match(t) or _FIELD.match(t)) >= self.CONTEXT_WORDS
        ]
        if not variables:
            return key
        for i in variables:
            field = _FIELD.match(tokens[i])
            tokens[i] = f"{field.group()} <*>" if field else "<*>"
        merged = " ".join(_collapsed(tokens))
        return self._spelling.setdefault(_MASK.sub("<*>", merged), merged)


class ConstantPrefix:
    """The leading tokens a source repeats on nearly every message: a header.

    A logfmt header (``ts=<TIMESTAMP> level=info``) is the same few tokens before every
    message of a source, so Drain counts them as equal tokens and two short messages of
    different events reach its similarity threshold on the header alone. Per source, the
    leading positions whose most common token fills at least ``share`` of the distinct
    messages seen are the prefix; it is judged once ``1 / (1 - share)`` messages were seen
    (before that one odd message would be a large share) and counts only what its
    similarity should not. With ``values``, a leading column holding at most that many
    distinct tokens (a host among five, a level) counts as well: a closed set independent of
    the event, which a syslog or logfmt header puts before the message. Memory is bounded:
    ``POSITIONS`` positions, ``VALUES`` distinct tokens counted per position (a token that
    fills nearly every message is among the first), ``SOURCES`` sources (then it starts
    over)."""

    POSITIONS = 8
    VALUES = 16
    SOURCES = 1024

    PAIRS = 256  # tokens after a column remembered per position and source

    def __init__(
        self,
        share: float | None,
        values: int | None = None,
        closed_evidence: int | None = None,
        independent: bool = False,
    ) -> None:
        self._share = share
        self._values = values
        self._evidence = round(1 / (1 - share)) if share is not None and share < 1 else 0
        self._closed_evidence = max(closed_evidence or 0, self._evidence)
        self._independent = independent
        self._seen: Counter[str] = Counter()
        self._tokens: dict[str, list[Counter[str]]] = {}
        # per source and position: the column value each following token was first seen after,
        # and whether some following token was seen after two values (independent of it)
        self._after: dict[str, list[dict[str, str]]] = {}
        self._shared: dict[str, list[bool]] = {}

    def observe(self, source: str, tokens: Sequence[str]) -> int:
        """Count one distinct message of ``source``; the length of its prefix as it stands."""
        if self._share is None:
            return 0
        if source not in self._tokens and len(self._tokens) >= self.SOURCES:
            self._tokens.clear()
            self._seen.clear()
            self._after.clear()
            self._shared.clear()
        counts = self._tokens.get(source)
        if counts is None:
            counts = self._tokens[source] = [Counter() for _ in range(self.POSITIONS)]
        self._seen[source] += 1
        for token, counted in zip(tokens, counts, strict=False):
            if token in counted or len(counted) < self.VALUES:
                counted[token] += 1
        if self._independent:
            self._pair(source, tokens)
        return self.length(source)

    def _pair(self, source: str, tokens: Sequence[str]) -> None:
        """Note which column value each following token came after."""
        after = self._after.get(source)
        if after is None:
            after = self._after[source] = [{} for _ in range(self.POSITIONS)]
            self._shared[source] = [False] * self.POSITIONS
        shared = self._shared[source]
        for i in range(min(self.POSITIONS, len(tokens) - 1)):
            if shared[i]:
                continue
            first = after[i].get(tokens[i + 1])
            if first is None:
                if len(after[i]) < self.PAIRS:
                    after[i][tokens[i + 1]] = tokens[i]
            elif first != tokens[i]:
                shared[i] = True
                after[i].clear()

    def length(self, source: str) -> int:
        """How many leading tokens of ``source``'s messages are its constant prefix."""
        seen = self._seen[source]
        if self._share is None or seen < max(self._evidence, 1):
            return 0
        needed = self._share * seen
        shared = self._shared.get(source)
        length = 0
        for i, counted in enumerate(self._tokens[source]):
            if not counted:
                break
            constant = max(counted.values()) >= needed
            # a closed set of a few tokens, filling nearly every message: a header column
            closed = (
                self._values is not None
                and seen >= self._closed_evidence
                and len(counted) <= self._values
                and sum(counted.values()) >= needed
                and (not self._independent or (shared is not None and shared[i]))
            )
            if not (constant or closed):
                break
            length += 1
        return length


class GapMerge:
    """Templates that differ only in how many tokens a variable spans, as one.

    Drain clusters lines by token count, so a variable spelled in one, two or three words (a
    person's name, a phrase of free text) gives one cluster per length; a cluster that saw few
    values keeps them as words. A template whose constant tokens are a *general* template's,
    in order, with the general one's placeholders covering the rest (one placeholder taking
    ``span`` or more tokens), is an instance of it and takes its identity. The general template
    must name its event in at least ``CONTEXT_WORDS`` plain words, and what a placeholder takes
    is never a source location (it names a statement). Of several general templates the one
    with the most constant tokens wins (then the first seen). Every template ever resolved
    counts, so identities stay stable across calls, as for the routed slots."""

    CONTEXT_WORDS = 2

    def __init__(self, span: int | None) -> None:
        self._span = span
        self._known: set[str] = set()
        # general templates by their first and last tokens ("" for a placeholder), each as
        # (rank: more constant tokens first, then first seen; key; constant runs between its
        # placeholders)
        self._general: dict[
            tuple[str, str], list[tuple[tuple[int, int], str, list[list[str]], frozenset[str]]]
        ] = {}
        # what each key resolved to, with the rank of the general template it took: a new
        # general template is tried on the keys resolved so far, not all of them again on all
        self._merged: dict[str, tuple[tuple[int, int], str]] = {}

    def add(self, key: str) -> None:
        if self._span is None or key in self._known:
            return
        self._known.add(key)
        tokens = key.split(" ")
        if not any(_PLACEHOLDER.match(t) for t in tokens):
            return
        if sum(1 for t in tokens if _WORD.match(t)) < self.CONTEXT_WORDS:
            return
        segments: list[list[str]] = [[]]
        for token in tokens:
            if _PLACEHOLDER.match(token):
                segments.append([])
            else:
                segments[-1].append(token)
        rank = (-sum(len(s) for s in segments), len(self._known))
        first, last = (
            segments[0][0] if segments[0] else "",
            segments[-1][-1] if segments[-1] else "",
        )
        needed = frozenset(t for segment in segments for t in segment)
        self._general.setdefault((first, last), []).append((rank, key, segments, needed))
        for other, (current, _) in self._merged.items():
            if rank >= current or other == key:
                continue
            words = other.split(" ")
            if (first and words[0] != first) or (last and words[-1] != last):
                continue
            if needed.issubset(words) and _instance(words, segments, self._span):
                self._merged[other] = (rank, key)

    def merged(self, key: str) -> str:
        """``key``, or the general template it is an instance of."""
        if self._span is None:
            return key
        merged = self._merged.get(key)
        if merged is None:
            merged = self._merged[key] = self._merge(key, self._span)
        return merged[1]

    def _merge(self, key: str, span: int) -> tuple[tuple[int, int], str]:
        tokens = key.split(" ")
        present = set(tokens)
        best: tuple[tuple[int, int], str] = (_UNRANKED, key)
        for ends in {(f, t) for f in ("", tokens[0]) for t in ("", tokens[-1])}:
            for rank, general, segments, needed in self._general.get(ends, ()):
                if (
                    rank < best[0]
                    and general != key
                    and needed <= present
                    and _instance(tokens, segments, span)
                ):
                    best = (rank, general)
        return best


_UNRANKED = (1, 0)  # the rank of a key that took no general template: worse than any


def _instance(tokens: list[str], segments: list[list[str]], span: int) -> bool:
    """Whether ``tokens`` is ``segments`` (constant runs with one placeholder between each
    two) with every placeholder filled by one or more tokens that are not source locations,
    one of them by ``span`` or more. Each constant run is found at its earliest place, which
    for placeholders of one-or-more tokens finds a match whenever there is one; the last run
    must end the line."""
    head, *middle, tail = segments
    end = len(tokens) - len(tail)
    if tokens[: len(head)] != head or tokens[end:] != tail or end < len(head):
        return False
    at = len(head)
    widest = 0
    for segment in middle:
        found = _find(tokens, segment, at + 1, end)
        if found < 0:
            return False
        widest = max(widest, found - at)
        if not _fill(tokens[at:found], anchored=bool(head) or at > len(head)):
            return False
        at = found + len(segment)
    anchored = bool(tail) and (bool(middle) or bool(head))
    if end - at < 1 or not _fill(tokens[at:end], anchored):
        return False
    return max(widest, end - at) >= span


def _fill(tokens: list[str], anchored: bool) -> bool:
    """Whether ``tokens`` can be one variable's value. Never a source location (it names a
    statement). A placeholder with constant words around it is another variable beside the
    general template's only where constants bound the fill on both sides; at the end of a line
    nothing bounds it, and "rhost <*> user root" is "rhost <*>" and another clause."""
    if any(_LOCATION.match(t) for t in tokens):
        return False
    if anchored or len(tokens) == 1:
        return True
    return not any(_PLACEHOLDER.match(t) or any(c.isdigit() for c in t) for t in tokens)


def _find(tokens: list[str], segment: list[str], start: int, stop: int) -> int:
    """The first index >= ``start`` where ``segment`` lies wholly before ``stop``, or -1."""
    size = len(segment)
    for i in range(start, stop - size + 1):
        if tokens[i : i + size] == segment:
            return i
    return -1


def _leaf_clusters(drain: Drain, tokens: Sequence[str]) -> list[int]:
    """The cluster ids of the tree leaf Drain would route ``tokens`` to (its own walk in
    ``Drain.tree_search``), without matching: [] when no leaf takes them."""
    node = drain.root_node.key_to_child_node.get(str(len(tokens)))
    if node is None or not tokens:
        return []
    depth = 1
    for token in tokens:
        if depth >= drain.max_node_depth or depth == len(tokens):
            break
        children = node.key_to_child_node
        node = children.get(token) or children.get(drain.param_str)
        if node is None:
            return []
        depth += 1
    return list(node.cluster_ids)


_TIMESTAMP = "<TIMESTAMP>"
_JOINABLE = 64  # a timestamp's part is short; longer values are never tried as one


def json_fields_text(message: str, mask: Callable[[str], str]) -> str | None:
    """A line that is one JSON object as ``key=value`` per field in order, string values
    unquoted (so ``"root"`` is the word ``root``, not a token with quotes) and anything else
    compact JSON; two or three adjacent short string fields whose values joined by ``:`` or a
    space ``mask`` to one timestamp (a date and a time logged apart) become one field. None
    when ``message`` is not a JSON object (or longer than ``JSON_CHARS``)."""
    stripped = message.strip()
    if not stripped.startswith("{") or len(stripped) > JSON_CHARS:
        return None
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    items = [
        (str(key), value if isinstance(value, str) else None, value) for key, value in data.items()
    ]
    out: list[str] = []
    i = 0
    while i < len(items):
        joined = _joined_timestamp([text for _, text, _ in items[i : i + 3]], mask)
        key, text, value = items[i]
        if joined is not None:
            out.append(f"{key}={joined[0]}")
            i += joined[1]
            continue
        shown = text if text is not None else json.dumps(value, separators=(",", ":"))
        out.append(f"{key}={shown}")
        i += 1
    return " ".join(out)


def _joined_timestamp(
    texts: Sequence[str | None], mask: Callable[[str], str]
) -> tuple[str, int] | None:
    """The longest run (3, then 2) of leading ``texts`` that joined is one timestamp, and its
    length; None if none is (or the first alone already is one)."""
    if not texts or texts[0] is None or len(texts[0]) > _JOINABLE or mask(texts[0]) == _TIMESTAMP:
        return None
    for size in (3, 2):
        parts = texts[:size]
        if len(parts) < size or any(p is None or len(p) > _JOINABLE for p in parts):
            continue
        for separator in (":", " "):
            joined = separator.join(p for p in parts if p is not None)
            if mask(joined) == _TIMESTAMP:
                return joined, size
    return None


_ALNUM = re.compile(r"[A-Za-z0-9]")


def description_length(texts: Sequence[str], templates: Sequence[str]) -> float:
    """Bits to write ``texts`` given each one's template (``templates``, one per text): the
    template table (8 bits per alphanumeric character of its constant tokens, and per token),
    which template each line uses (-log2 of its share of the lines), and each line's
    alphanumeric characters its template's constants do not spell (8 bits each). Counted
    without the MDL: a label-free criterion for comparing two ways of mining the same lines
    (issue 13, sixth pass): a split that each line pays for in words it could have had as
    constants costs more than a template more, and a lump costs the words it wildcards.
    Only letters and digits count, so a reading that drops quotes or ``=`` is neither
    rewarded nor charged for it."""
    counts = Counter(templates)
    total = len(templates)
    constants: dict[str, int] = {}
    bits = 0.0
    for key, count in counts.items():
        tokens = key.split(" ")
        spelled = sum(len(_ALNUM.findall(t)) for t in tokens if not _PLACEHOLDER.match(t))
        constants[key] = spelled
        bits += 8 * (spelled + len(tokens)) - count * math.log2(count / total)
    for text, key in zip(texts, templates, strict=True):
        bits += 8 * max(0, len(_ALNUM.findall(_head(text))) - constants[key])
    return bits


def _routes_as_parameter(token: str) -> bool:
    """Whether Drain's tree sends ``token`` to its wildcard branch: a number, or a key=value."""
    return bool(_FIELD.match(token)) or any(c.isdigit() for c in token)


def _collapsed(tokens: Iterable[str]) -> list[str]:
    """Runs of placeholders as one."""
    out: list[str] = []
    for token in tokens:
        if out and _PLACEHOLDER.match(token) and _PLACEHOLDER.match(out[-1]):
            if token != out[-1]:
                out[-1] = "<*>"
            continue
        out.append(token)
    return out


class TemplateMiner:
    """Drain3 behind the skeleton fast path; ``template`` resolves a masked message with the
    current state."""

    def __init__(
        self, config: TemplateMinerConfig | None = None, settings: MinerSettings | None = None
    ) -> None:
        self.settings = settings or MinerSettings()
        if self.settings.source_choice not in (None, *SOURCE_CRITERIA):
            raise ValueError(f"unknown source_choice {self.settings.source_choice!r}")
        # per source: the settings it chose (``source_choice``), and a tag that keeps its
        # skeleton cache apart when its switches are not the miner's own
        self._source_settings: dict[str, tuple[MinerSettings, bytes]] = {}
        self._config = config
        self._last_prefix: dict[str, int] = {}
        self.prefix_shrank = False
        self._miner = Drain3Miner(config=config or default_config(self.settings))
        self._prefix = ConstantPrefix(
            self.settings.prefix_share,
            self.settings.header_values,
            self.settings.header_evidence,
            self.settings.header_independent,
        )
        self._skip = 0  # the prefix length of the message being mined
        if self.settings.prefix_share is not None:
            self._miner.drain.get_seq_distance = self._distance
        if self.settings.key_values is not None:
            # a key=value token routes Drain's tree as a number does, to its "<*>" branch: a
            # value among the first tokens would otherwise give each value a cluster of its own
            # ("acquire lock=lenu ..."), where the ``=`` delimiter put it past the routed tokens
            self._miner.drain.has_numbers = _routes_as_parameter
        self._masked_of_skeleton: dict[bytes, str] = {}
        self._cluster_of_masked: dict[str, int] = {}
        self._key_of_masked: dict[str, tuple[tuple[str, ...], str, Container[int]]] = {}
        self._spelling: dict[str, str] = {}
        # per cluster: how many distinct messages joined it, and its slots keyed by (message
        # length, position, source locations), updated once per distinct message
        self._members: Counter[int] = Counter()
        self._slots: dict[int, dict[tuple[int, int, tuple[str, ...], str], _Slot]] = {}
        self._variables: dict[int, tuple[int, tuple[str, ...], Container[int]]] = {}
        self._routed = RoutedSlots(
            max(self.settings.depth - 3, 0), self.settings.routed_values, self._spelling
        )
        self._gaps = GapMerge(self.settings.gap_span)
        # per source: its prefix length at the last message, and the messages mined under a
        # prefix longer than 0 with that length, for ``header_revisit`` (bounded per source)
        self._lengths: dict[str, int] = {}
        self._mined_under: dict[str, deque[tuple[str, int]]] = {}
        self.lines_seen = 0

    @property
    def drain3(self) -> Drain3Miner:
        """The wrapped Drain3 miner (for persistence)."""
        return self._miner

    @property
    def cluster_count(self) -> int:
        return len(self._miner.drain.id_to_cluster)

    def prefix_length(self, source: str = "") -> int:
        """How many leading tokens of ``source``'s messages its constant prefix holds (0 unless
        ``MinerSettings.prefix_share`` is set)."""
        return self._prefix.length(source)

    def add(self, line: LogLine | str) -> str:
        """Mine one line; returns its masked text, the handle for ``template``."""
        text = _head(line if isinstance(line, str) else _text(line))
        self.lines_seen += 1
        source = "" if isinstance(line, str) else line.source
        settings, tag = self._source_settings.get(source, (self.settings, b""))
        shape = tag + skeleton(text) if tag else skeleton(text)
        masked = self._masked_of_skeleton.get(shape)
        if masked is None:
            if settings.json_fields:
                text = self._json_text(line) or text
            masked = self._miner.masker.mask(text.strip())
            if settings.value_lists:
                masked = _LIST.sub(r"<\1>", masked)
            if len(self._masked_of_skeleton) >= CACHE_LIMIT:
                self._masked_of_skeleton.clear()
            self._masked_of_skeleton[shape] = masked
            if masked not in self._cluster_of_masked:
                if self.settings.prefix_share is not None:
                    tokens = self._miner.drain.get_content_as_tokens(masked)
                    self._skip = self._prefix.observe(source, tokens)
                    self._note_prefix(source, self._skip)
                    if settings.header_revisit:
                        self._revisit(source, self._skip)
                cluster, _ = self._miner.drain.add_log_message(masked)
                self._cluster_of_masked[masked] = cluster.cluster_id
                self._joined(cluster.cluster_id, masked)
                if settings.header_revisit and self._skip:
                    self._mined_under.setdefault(source, deque(maxlen=self.REVISIT)).append(
                        (masked, self._skip)
                    )
        return masked

    REVISIT = 256  # messages remembered per source with the prefix they were mined under

    def _note_prefix(self, source: str, length: int) -> None:
        """Remember whether some source's prefix ever shrank (else ``header_revisit`` would
        change nothing: ``_chosen`` skips it)."""
        if length < self._last_prefix.get(source, 0):
            self.prefix_shrank = True
        if source not in self._last_prefix and len(self._last_prefix) >= ConstantPrefix.SOURCES:
            self._last_prefix.clear()
        self._last_prefix[source] = length

    def _json_text(self, line: LogLine | str) -> str | None:
        """A JSON-object line as its fields (``json_fields``), its level first as ``_text``
        puts it; None for any other line."""
        message = line if isinstance(line, str) else line.message
        fields = json_fields_text(message, self._miner.masker.mask)
        if fields is None:
            return None
        return _head(
            fields if isinstance(line, str) or not line.level else f"{line.level} {fields}"
        )

    def _revisit(self, source: str, length: int) -> None:
        """When ``source``'s prefix shrank, match again the messages mined under a longer one:
        a column read as a header (a burst of one event at start-up) is given back to Drain's
        similarity, and what it split off joins the cluster Drain would give it now."""
        before = self._lengths.get(source, 0)
        if len(self._lengths) >= ConstantPrefix.SOURCES and source not in self._lengths:
            self._lengths.clear()
            self._mined_under.clear()
        self._lengths[source] = length
        pending = self._mined_under.get(source)
        if length >= before or not pending:
            return
        kept: deque[tuple[str, int]] = deque(maxlen=self.REVISIT)
        for masked, skip in pending:
            if skip > length:
                self._rematch(masked)
            else:
                kept.append((masked, skip))
        self._mined_under[source] = kept

    def _rematch(self, masked: str) -> None:
        """Give ``masked`` the best other cluster of its tree leaf, with the current prefix
        (``self._skip``) left out of the similarity, if one reaches Drain's threshold."""
        own = self._cluster_of_masked.get(masked)
        drain = self._miner.drain
        tokens = drain.get_content_as_tokens(masked)
        others = [i for i in _leaf_clusters(drain, tokens) if i != own]
        match = drain.fast_match(others, tokens, drain.sim_th, False)
        if own is None or match is None:
            return
        match.log_template_tokens = tuple(drain.create_template(tokens, match.log_template_tokens))
        match.size += 1
        self._cluster_of_masked[masked] = match.cluster_id
        self._joined(match.cluster_id, masked)

    def _distance(
        self, seq1: Sequence[str], seq2: Sequence[str], include_params: bool
    ) -> tuple[float, int]:
        """Drain's similarity of a message to a cluster, the source's constant prefix left out
        (a message no longer than it is compared whole)."""
        skip = self._skip if len(seq1) > self._skip else 0
        if not skip:
            whole: tuple[float, int] = Drain.get_seq_distance(
                self._miner.drain, seq1, seq2, include_params
            )
            return whole
        distance: tuple[float, int] = Drain.get_seq_distance(
            self._miner.drain, seq1[skip:], seq2[skip:], include_params
        )
        return distance

    def _joined(self, cluster_id: int, masked: str) -> None:
        """Count what fills each position of a message new to its cluster."""
        self._members[cluster_id] += 1
        limit = self.settings.word_values
        if not limit:
            return
        message = self._miner.drain.get_content_as_tokens(masked)
        statement = tuple(t for t in message if "#" in t and _LOCATION.match(t))
        slots = self._slots.setdefault(cluster_id, {})
        for i, value in enumerate(message):
            field = _FIELD.match(value)  # a key=value token's key: each field is its own slot
            slot = (len(message), i, statement, field.group() if field else "")
            slots.setdefault(slot, _Slot(set())).add(value, limit)

    def template(self, masked: str) -> str:
        """The template of a masked message as the miner stands now."""
        key = self._routed.merged(self._statement_key(masked))
        self._gaps.add(key)
        return self._gaps.merged(key)

    def _statement_key(self, masked: str) -> str:
        """The template as its Drain cluster gives it, before the routed slots are merged."""
        cluster_id = self._cluster_of_masked.get(masked)
        if cluster_id is None:
            masked = self.add(masked)
            cluster_id = self._cluster_of_masked[masked]
        cluster = self._miner.drain.id_to_cluster.get(cluster_id)
        if cluster is None:  # evicted: mine it again
            del self._cluster_of_masked[masked]
            self._masked_of_skeleton.clear()
            return self._statement_key(self.add(masked))
        tokens = cluster.log_template_tokens  # Drain replaces the tuple when the template changes
        variables = self._variable_positions(cluster_id, tokens)
        cached = self._key_of_masked.get(masked)
        if cached is not None and cached[0] is tokens and cached[2] is variables:
            return cached[1]
        key = template_key(tokens, self._miner.drain.get_content_as_tokens(masked), variables)
        # Placeholder types do not split a template ("<IP> <PATH>" and "<IP> <*>" are one);
        # the first spelling seen is the one shown.
        key = self._spelling.setdefault(_MASK.sub("<*>", key), key)
        self._key_of_masked[masked] = (tokens, key, variables)
        self._routed.add(key)
        return key

    def _variable_positions(self, cluster_id: int, tokens: tuple[str, ...]) -> Container[int]:
        """The wildcarded positions of a cluster that are variables: more than ``word_values``
        distinct tokens fill them among lines of one log statement (an open set: user names,
        hosts), where a closed set of a few words names events ("VM Paused", "VM Resumed").
        Lines of one statement are those with the same source locations: a cluster Drain formed
        of many statements (``Impl#31 ... Order``, ``Impl#48 ... user``) has words that differ
        by statement, not by value."""
        limit = self.settings.word_values
        if limit is None:
            return _NOWHERE
        if limit == 0:
            return _EVERYWHERE
        members = self._members[cluster_id]
        cached = self._variables.get(cluster_id)
        if cached is not None and cached[0] == members and cached[1] is tokens:
            return cached[2]
        found = frozenset(
            i
            for (length, i, _, _), slot in self._slots.get(cluster_id, {}).items()
            if length == len(tokens)
            and tokens[i] == "<*>"
            and (
                len(slot.values) > limit or (self.settings.mixed_slots and slot.word and slot.other)
            )
        )
        self._variables[cluster_id] = (members, tokens, found)
        return found

    def templates_of(self, lines: Iterable[LogLine | str]) -> list[str]:
        """The template of every line, resolved after all of them were mined."""
        lines = list(lines)
        if self.settings.source_choice is not None:
            self._choose(lines)
        masked = [self.add(line) for line in lines]
        statements = {m: self._statement_key(m) for m in dict.fromkeys(masked)}
        keys = {m: self._routed.merged(k) for m, k in statements.items()}
        for key in keys.values():
            self._gaps.add(key)
        merged = {m: self._gaps.merged(k) for m, k in keys.items()}
        return [merged[m] for m in masked]

    def _choose(self, lines: Sequence[LogLine | str]) -> None:
        """Let each source seen here for the first time choose its switches on its first
        ``choice_window`` of ``lines`` (``MinerSettings.source_choice``). Past
        ``ConstantPrefix.SOURCES`` sources the one unseen for longest forgets its choice (pods
        come and go, and the choices are saved from one incident to the next): the sources
        still logging keep theirs."""
        window: dict[str, list[LogLine | str]] = {}
        known: dict[str, None] = {}
        limit = self.settings.choice_window
        for line in lines:
            source = "" if isinstance(line, str) else line.source
            if source in self._source_settings:
                known[source] = None
                continue
            chosen = window.setdefault(source, [])
            if len(chosen) < limit:
                chosen.append(line)
        for source in known:  # seen again: the last to be forgotten
            self._source_settings[source] = self._source_settings.pop(source)
        for source, chosen in window.items():
            if len(self._source_settings) >= ConstantPrefix.SOURCES:
                # the skeleton cache is keyed by switches, not by source: it stays valid
                del self._source_settings[next(iter(self._source_settings))]
            self._source_settings[source] = self._chosen(chosen)

    def _chosen(self, window: Sequence[LogLine | str]) -> tuple[MinerSettings, bytes]:
        """The ``SOURCE_POOL`` settings ``source_choice`` prefers on ``window`` (mined apart,
        once per candidate: the cost is paid once per source), with its cache tag. A candidate
        whose switch cannot act on the window (no prefix shrank, no list was masked, no line is
        a JSON object) would mine it exactly as an earlier one and tie, so it is not mined."""
        scores: dict[int, float] = {}
        shrank: dict[int, bool] = {}
        lists = False
        json_lines = any(
            (w if isinstance(w, str) else w.message).lstrip().startswith("{") for w in window
        )
        for i, (revisit, listed, fields) in enumerate(SOURCE_POOL):
            if (fields and not json_lines) or (
                not fields and ((listed and not lists) or (revisit and not shrank[i - 1]))
            ):
                continue
            candidate = replace(
                self.settings,
                source_choice=None,
                header_revisit=revisit,
                value_lists=listed,
                json_fields=fields,
            )
            miner = TemplateMiner(self._config, candidate)
            keys = miner.templates_of(window)
            shrank[i] = miner.prefix_shrank
            if i == 0:
                lists = any(_LIST.search(m) for m in miner._cluster_of_masked)
            if self.settings.source_choice == "templates":
                scores[i] = float(len(set(keys)))
            else:
                texts = [w if isinstance(w, str) else _text(w) for w in window]
                scores[i] = description_length(texts, keys)
        index = min(scores, key=lambda i: (scores[i], i))
        return self._as_chosen(SOURCE_POOL[index])

    def _as_chosen(self, switches: tuple[bool, bool, bool]) -> tuple[MinerSettings, bytes]:
        """The settings a source mines with under ``switches`` (one of ``SOURCE_POOL``), and
        the tag that keeps its skeleton cache apart when they are not the miner's own."""
        settings = replace(
            self.settings,
            header_revisit=switches[0],
            value_lists=switches[1],
            json_fields=switches[2],
        )
        own = switches == _switches(self.settings)
        return settings, b"" if own else bytes((SOURCE_POOL.index(switches) + 1,))

    def chosen_switches(self, source: str = "") -> tuple[bool, bool, bool] | None:
        """What ``source`` chose (header_revisit, value_lists, json_fields), or None if it has
        not chosen (``source_choice`` off, or its lines not yet resolved)."""
        chosen = self._source_settings.get(source)
        return _switches(chosen[0]) if chosen else None

    def choices(self) -> dict[str, tuple[bool, bool, bool]]:
        """Every source's chosen switches (at most ``ConstantPrefix.SOURCES``), to be saved with
        the Drain3 state: a source mined under other switches on the next incident would mask
        the same lines differently and give them other templates."""
        return {source: _switches(chosen[0]) for source, chosen in self._source_settings.items()}

    def restore_choices(self, choices: Mapping[str, tuple[bool, bool, bool]]) -> None:
        """Take back the choices ``choices`` saved, so those sources do not choose again on
        another window's lines. Ignored when this miner does not choose (``source_choice``
        off); a combination outside ``SOURCE_POOL`` (another version's) is left out, and that
        source chooses again."""
        if self.settings.source_choice is None:
            return
        for source, switches in choices.items():
            if len(self._source_settings) >= ConstantPrefix.SOURCES:
                break
            if switches in SOURCE_POOL and source not in self._source_settings:
                self._source_settings[source] = self._as_chosen(switches)

    def templates(self, lines: Iterable[LogLine]) -> list[str]:
        """Distinct templates of ``lines``, in order of first appearance."""
        return list(dict.fromkeys(self.templates_of(lines)))

    def compare(
        self,
        baseline: Sequence[LogLine],
        current: Sequence[LogLine],
        baseline_minutes: float,
        current_minutes: float,
        *,
        surge_ratio: float = 3.0,
        min_count: int = 3,
    ) -> TemplateChanges:
        """New and surging templates of ``current`` against ``baseline`` (rates per minute)."""
        keys = self.templates_of([*baseline, *current])
        before = Counter(keys[: len(baseline)])
        after: Counter[str] = Counter()
        examples: dict[str, LogLine] = {}
        for key, line in zip(keys[len(baseline) :], current, strict=True):
            after[key] += 1
            examples.setdefault(key, line)
        base_minutes = max(baseline_minutes, 1.0)
        cur_minutes = max(current_minutes, 1.0)
        new: list[TemplateStat] = []
        surging: list[TemplateStat] = []
        for key, count in after.items():
            if count < min_count:
                continue
            stat = TemplateStat(
                template=key,
                level=examples[key].level.upper(),
                baseline_count=before[key],
                current_count=count,
                baseline_rate=before[key] / base_minutes,
                current_rate=count / cur_minutes,
                example=examples[key].message,
            )
            # one occurrence of smoothing, so a template seen once before is not "infinite" growth
            if stat.is_new:
                new.append(stat)
            elif stat.current_rate >= surge_ratio * (before[key] + 1) / base_minutes:
                surging.append(stat)
        return TemplateChanges(new, surging, total_templates=len(set(before) | set(after)))


def _text(line: LogLine) -> str:
    """The level is part of the template: an ERROR and an INFO with the same words differ."""
    return f"{line.level} {line.message}" if line.level else line.message


@dataclass(frozen=True)
class TemplateStat:
    """How often one template occurred before and during the incident (counts, rates per minute)."""

    template: str
    level: str
    baseline_count: int
    current_count: int
    baseline_rate: float
    current_rate: float
    example: str

    @property
    def is_new(self) -> bool:
        return self.baseline_count == 0

    @property
    def is_error(self) -> bool:
        return self.level in ERROR_LEVELS

    @property
    def change(self) -> str:
        """'new', or the growth of the rate: '12x'."""
        if self.is_new:
            return "new"
        return f"{self.current_rate / max(self.baseline_rate, 1e-9):.0f}x"


@dataclass(frozen=True)
class TemplateChanges:
    """Templates that appeared (new) or grew sharply (surging) in the incident window."""

    new: list[TemplateStat]
    surging: list[TemplateStat]
    total_templates: int

    @property
    def abnormal(self) -> list[TemplateStat]:
        return sorted(
            self.new + self.surging,
            key=lambda s: (LEVEL_ORDER.get(s.level, 3), -s.current_rate),
        )
