from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.logs import LogLine, parse_line
from knowledge.masking import masking_instructions
from knowledge.template_state import load_miner, save_miner
from knowledge.templates import (
    EMBEDDED_WORDS,
    MinerSettings,
    TemplateMiner,
    embedding_text,
    readable,
    skeleton,
)


def lines(messages: list[str], level: str = "INFO", start: float = 0.0) -> list[LogLine]:
    return [LogLine(start + i, m, level) for i, m in enumerate(messages)]


@pytest.mark.parametrize(
    ("message", "placeholder"),
    [
        ("connect to 10.0.3.17:6379 failed", "<IP>"),
        ("job 123e4567-e89b-12d3-a456-426614174000 done", "<UUID>"),
        ("payload 6210 bytes too big", "<SIZE>"),
        ("took 1840 ms", "<DURATION>"),
        ("call https://api.example.com/v1/x?y=1 failed", "<URL>"),
        ("cannot open /var/lib/app/data.db", "<PATH>"),
        ("mail to ops@example.com bounced", "<EMAIL>"),
        ("object 0x7ffe12ab freed", "<HEX>"),
        ("queue depth 57", "<NUM>"),
    ],
)
def test_masking_turns_variables_into_typed_placeholders(message: str, placeholder: str) -> None:
    [template] = TemplateMiner().templates_of([LogLine(0, message)])
    assert placeholder in template


def test_messages_differing_only_in_variables_share_a_template() -> None:
    a, b, c = TemplateMiner().templates_of(
        [
            LogLine(0, "Request payload 6210 bytes exceeds limit for user u-1234", "WARN"),
            LogLine(0, "Request payload 9100 bytes exceeds limit for user u-9876", "WARN"),
            LogLine(0, "Cache memory at 91% of limit", "WARN"),
        ]
    )
    assert a == b != c


def test_compare_finds_new_and_surging_templates_but_not_steady_ones() -> None:
    baseline = lines([f"served user u-{i} in {i} ms" for i in range(600)])
    baseline += lines([f"cache hit ratio 0.{i}" for i in range(6)])
    current = lines([f"served user u-{i} in {i} ms" for i in range(100)])
    current += lines([f"cache hit ratio 0.{i}" for i in range(30)])
    current += lines([f"payload {i} bytes exceeds soft limit" for i in range(20)], "WARN")
    changes = TemplateMiner().compare(baseline, current, baseline_minutes=60, current_minutes=10)
    assert [s.template for s in changes.new] == ["WARN payload <SIZE> exceeds soft limit"]
    assert [s.template for s in changes.surging] == ["INFO cache hit ratio <NUM>"]
    assert changes.abnormal[0].level == "WARN"  # warnings before info


def test_lines_of_one_shape_share_a_skeleton_and_are_masked_once() -> None:
    shaped = [
        f"order {i:08x}-1f2e-4d3c-8b9a-{i:012x} paid {i * 37} cents in {i % 9} ms"
        for i in range(1, 500)
    ]
    assert len({skeleton(line) for line in shaped}) == 1
    miner = TemplateMiner()
    templates = miner.templates_of(shaped)
    assert len(set(templates)) == 1 and "<UUID>" in templates[0]
    assert miner.lines_seen == 499 and miner.cluster_count == 1


def test_a_payload_dump_after_the_head_does_not_make_a_line_new() -> None:
    head = "INFO s.s.SeatServiceImpl#151 [getLeftTicketOfInterval][result is] " + "ok " * 400
    stations = ["shanghai", "beijing", "nanjing", "suzhou", "taiyuan", "wuxi"]
    dumps = [
        head + " ".join(f"Ticket(startStation={a}, destStation={b})" for b in stations)
        for a in stations
    ]
    miner = TemplateMiner()
    templates = miner.templates_of(dumps)
    assert len(set(templates)) == 1 and templates[0].endswith("<*>")
    assert miner.cluster_count == 1
    # what a head says still tells events apart
    other = TemplateMiner().templates_of([dumps[0], dumps[0].replace("INFO", "ERROR", 1)])
    assert other[0] != other[1]


def test_skeleton_keeps_words_and_source_locations() -> None:
    assert skeleton("VM Paused") != skeleton("VM Resumed")
    assert skeleton("c.s.Impl#31 [query]") != skeleton("c.s.Impl#34 [query]")
    one, two = TemplateMiner().templates_of(
        ["c.s.Impl#31 [query][id 5]", "c.s.Impl#34 [query][id 7]"]
    )
    assert one != two  # different log statements, though Drain puts them in one cluster


def test_a_template_is_embedded_by_its_head() -> None:
    long = "INFO t.s.Impl#9 [get][Routes Response is] " + "field <*> " * 200
    assert len(embedding_text(long).split()) == EMBEDDED_WORDS
    assert embedding_text("WARN payload <SIZE> exceeds limit") == "WARN payload exceeds limit"


def test_readable_strips_placeholders() -> None:
    assert readable("WARN payload <SIZE> exceeds <*> limit") == "WARN payload exceeds limit"


def test_parse_line_splits_timestamp_and_level() -> None:
    line = parse_line("2026-01-02T03:04:05.123Z WARN disk almost full")
    assert (line.level, line.message) == ("WARN", "disk almost full")
    assert parse_line("no level here").message == "no level here"


def test_a_word_position_filled_by_many_names_is_a_variable() -> None:
    users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    logins = [f"Invalid user {u} from 10.0.0.{i}" for i, u in enumerate(users * 3)]
    templates = TemplateMiner().templates_of(logins)
    assert set(templates) == {"Invalid user <*> from <IP>"}


def test_a_word_position_with_few_values_still_tells_events_apart() -> None:
    events = ["Paused", "Resumed", "Stopped"] * 20
    lines = [f"[instance: {i:08x}-1f2e-4d3c-8b9a-{i:012x}] VM {e}" for i, e in enumerate(events)]
    templates = TemplateMiner().templates_of(lines)
    assert len(set(templates)) == 3
    assert {t.split()[-1] for t in templates} == {"Paused", "Resumed", "Stopped"}


def test_words_that_differ_by_log_statement_stay_in_its_template() -> None:
    # one Drain cluster of six statements: each word belongs to its statement, none is a value
    words = ["Order", "User", "Route", "Price", "Seat", "Food"]
    lines = [
        f"INFO c.s.Impl#{10 + i} get {word} by id {n}"
        for n in range(5)
        for i, word in enumerate(words)
    ]
    templates = set(TemplateMiner().templates_of(lines))
    assert len(templates) == 6
    assert all(any(f"{word} by id" in t for t in templates) for word in words)


def test_a_slot_holding_words_and_numbers_is_a_variable() -> None:
    states = ["Installed"] * 10 + ["112", "80", "Staged"]
    lines = [
        f"Read out applicability for package KB{i}, CurrentState: {s}" for i, s in enumerate(states)
    ]
    templates = set(TemplateMiner().templates_of(lines))
    assert templates == {"Read out applicability for package <*> CurrentState <*>"}


def test_a_name_in_the_first_tokens_is_a_variable_across_templates() -> None:
    # Drain's tree splits on the first two tokens, so each user gets a cluster of its own
    users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
    lines = [f"session {u} opened from 10.0.0.{i} over ssh" for i, u in enumerate(users * 2)]
    assert set(TemplateMiner().templates_of(lines)) == {"session <*> opened from <IP> over ssh"}
    # a few first words still name different events
    verbs = ["started", "stopped", "paused"] * 5
    jobs = [f"job {v} after {i} retries on queue" for i, v in enumerate(verbs)]
    assert len(set(TemplateMiner().templates_of(jobs))) == 3


def test_new_user_names_in_the_incident_window_are_not_new_templates() -> None:
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
    baseline = lines([f"Invalid user {n} from 10.0.0.{i}" for i, n in enumerate(names * 3)])
    others = ["mallory", "oscar", "peggy", "trent", "victor", "walter"]
    current = lines([f"Invalid user {n} from 10.0.1.{i}" for i, n in enumerate(others * 5)])
    changes = TemplateMiner().compare(baseline, current, baseline_minutes=60, current_minutes=10)
    assert changes.new == []
    assert [s.template for s in changes.surging] == ["INFO Invalid user <*> from <IP>"]


USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]


def test_a_variable_spelled_in_more_words_is_still_one_template() -> None:
    # Drain mines each token count apart; a name of two or three words is the same event
    messages = [f"Session opened for user {u} by login" for u in USERS]
    messages += ["Session opened for user john smith by login"] * 2
    messages += ["Session opened for user mary ann lee by login"] * 2
    messages += ["Session closed for user bob"]
    keys = TemplateMiner().templates_of(lines(messages))
    assert len(set(keys[:-1])) == 1
    assert keys[-1] != keys[0]


def test_a_clause_after_a_trailing_variable_is_another_event() -> None:
    # "... rhost <*>" and "... rhost <*> user root" are two log statements, not one variable
    messages = [f"authentication failure; rhost=10.0.{i}.{i + 1}" for i in range(12)]
    messages += [f"authentication failure; rhost=10.1.{i}.{i + 1} user=root" for i in range(12)]
    keys = TemplateMiner().templates_of(lines(messages))
    assert len(set(keys[:12])) == len(set(keys[12:])) == 1
    assert keys[0] != keys[12]


KEY_VALUES = MinerSettings(delimiters=(":", ","), key_values="variable")
# the miner before the third pass on headers: every token counts in Drain's similarity
NO_HEADER = MinerSettings(prefix_share=None, header_values=None)


def logfmt(i: int, body: str) -> str:
    host = ["alpha", "bravo", "delta", "kilo", "sierra"][i // 5 % 5]
    return f"ts=2026-12-07T00:00:{i % 60:02d}.{i:03d}Z level=info host={host} {body}"


def test_a_logfmt_header_does_not_lump_short_events_together() -> None:
    # with "=" a delimiter the header alone is six tokens equal on every line, enough for
    # Drain's 0.5 similarity to put two short events of one length into one cluster
    bodies = [
        "disk is now full",
        "uplink went down again",
        "cert expired for api",
        "queue stuck behind lock",
        "fan failed in rack",
    ]
    messages = [logfmt(i, bodies[i % 5]) for i in range(50)]
    assert len(set(TemplateMiner(settings=NO_HEADER).templates_of(messages))) == 1
    keys = TemplateMiner(settings=KEY_VALUES).templates_of(messages)
    assert len(set(keys)) == 5
    assert keys[0] == "ts=<TIMESTAMP> level=info host= <*> disk is now full"


def test_a_key_value_variable_keeps_its_key_and_closed_sets_stay_words() -> None:
    users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    messages = [f"login ok user={u} session={i}" for i, u in enumerate(users * 2)]
    messages += [f"logout done state={s} session={i}" for i, s in enumerate(["idle", "busy"] * 4)]
    keys = TemplateMiner(settings=KEY_VALUES).templates_of(messages)
    assert set(keys[:16]) == {"login ok user= <*> session=<NUM>"}
    assert set(keys[16:]) == {
        "logout done state=idle session=<NUM>",
        "logout done state=busy session=<NUM>",
    }


def test_a_key_value_in_the_first_tokens_does_not_split_an_event_per_value() -> None:
    # Drain's tree routes on the first tokens; "lock=<name>" there would give every name a
    # cluster of its own
    names = ["lenu", "zugare", "batelo", "kimo", "rasu", "tovi", "pela", "dunu", "sako", "mira"]
    messages = [f"acquire lock={n} flags=0x{i:x} tag=screen" for i, n in enumerate(names * 2)]
    assert set(TemplateMiner(settings=KEY_VALUES).templates_of(messages)) == {
        "acquire lock= <*> flags=<HEX> tag=screen"
    }


def test_key_value_masking_is_bounded_and_leaves_other_equals_signs() -> None:
    [kv] = [m for m in masking_instructions(key_values="variable") if m.mask_with == "KV"]
    assert kv.mask('a==b x=1 url?q=2 msg="two words" name=plain', "<", ">") == (
        "a==b x=<KV> url?q=2 msg=<KV> name=plain"
    )
    hostile = 'k="' + "a" * 5000
    assert kv.mask(hostile, "<", ">") == hostile


def test_a_header_every_line_repeats_is_left_out_of_drains_similarity() -> None:
    # the header is the same tokens before every message of the source; counted, they lump
    # five short events of one length into one template; left out of the similarity (judged
    # once 20 distinct messages showed it: here a worker's start-up lines) they stay five
    bodies = [
        "disk is now full",
        "uplink went down again",
        "cert expired for api",
        "queue stuck behind lock",
        "fan failed in rack",
    ]
    start = [
        logfmt(i, f"worker {u} joined pool {v} with retries on")
        for i, u in enumerate(USERS)
        for v in USERS[:2]
    ]
    messages = start + [f"{logfmt(i, bodies[i % 5])} by {USERS[i % 12]}" for i in range(60)]
    assert len(set(TemplateMiner(settings=NO_HEADER).templates_of(messages)[len(start) :])) == 1
    keys = TemplateMiner(settings=HEADER_PREFIX).templates_of(messages)
    assert len(set(keys[len(start) :])) == 5
    assert keys[len(start)] == "ts <TIMESTAMP> level info host <*> disk is now full by <*>"


def test_a_prefix_is_learned_per_source_and_only_from_enough_messages() -> None:
    miner = TemplateMiner(settings=HEADER_PREFIX)
    for user in USERS[:8]:
        miner.add(LogLine(0, f"svc=cart op=get item of {user}", source="cart-1"))
        miner.add(LogLine(1, f"svc=cart op=get basket {user}", source="cart-1"))
    assert miner.prefix_length("cart-1") == 0  # 16 distinct messages: too few to judge
    for user in USERS[:8]:
        miner.add(LogLine(2, f"svc=cart op=get line of {user}", source="cart-1"))
    assert miner.prefix_length("cart-1") == 4  # "svc cart op get" in all 24, then not 95%
    miner.add(LogLine(3, "svc=cart op=put item of bob", source="cart-1"))
    miner.add(LogLine(3, "svc=cart op=put item of liz", source="cart-1"))
    assert miner.prefix_length("cart-1") == 3  # "get" in 24 of 26: under 95%
    assert miner.prefix_length("pay-1") == 0


HEADER_PREFIX = MinerSettings(header_values=None)


def syslog(i: int, body: str) -> str:
    host = ["alpha", "bravo", "delta", "kilo", "sierra"][i % 5]
    return f"<134>1 2026-12-07T00:00:{i % 60:02d}.{i:03d}Z {host} cart 4242 - - {body}"


def test_a_syslog_header_with_a_host_column_is_left_out_of_drains_similarity() -> None:
    # a header of seven tokens, the host among five: a prefix of constant tokens stops at the
    # host, and the rest of the header still lumps five short events of one length into one
    # template; the host as a closed column of the header keeps them five
    bodies = ["disk now full", "uplink went down", "cert expired today", "queue is stuck"]
    bodies.append("fan failed again")
    start = [syslog(i, f"worker {u} joined pool with retries on") for i, u in enumerate(USERS)]
    start += [syslog(i, f"worker {u} left pool with retries off") for i, u in enumerate(USERS)]
    messages = start + [syslog(i, bodies[i // 5 % 5]) for i in range(50)]
    assert len(set(TemplateMiner(settings=NO_HEADER).templates_of(messages)[len(start) :])) == 1
    constant = TemplateMiner(settings=HEADER_PREFIX)
    assert len(set(constant.templates_of(messages)[len(start) :])) < 5
    assert constant.prefix_length() == 2  # "<134>1 <TIMESTAMP>", then the host varies
    columns = TemplateMiner()  # header columns are the default
    keys = columns.templates_of(messages)
    assert columns.prefix_length() == 7  # up to "- -": the host among five, the pid masked
    assert len(set(keys[len(start) :])) == 5


def test_header_columns_stop_at_the_message_and_refill_after_a_restart(tmp_path: Path) -> None:
    # a message's first word with more than five values is not a header column; the counts
    # are not in the saved state: a reloaded miner keeps the setting and its templates, and
    # judges the prefix again once 20 distinct messages showed it
    miner = TemplateMiner()
    verbs = ["open", "close", "read", "write", "seek", "sync", "stat"]
    lines = [syslog(i, f"{verbs[i % 7]} file of {u}") for i, u in enumerate(USERS * 2)]
    before = miner.templates_of(lines)
    assert miner.prefix_length() == 7
    save_miner(miner, tmp_path / "state.bin")
    reloaded = load_miner(tmp_path / "state.bin")
    assert reloaded.settings.header_values == 5 and reloaded.prefix_length() == 0
    assert reloaded.templates_of(lines) == before
    assert reloaded.prefix_length() == 7


def test_a_start_up_burst_is_not_a_header_column_when_columns_must_be_independent() -> None:
    # a log opening with one event sixteen times and four others: in the first 20 distinct
    # messages the first word takes five values, so header columns (the defaults) read it as a
    # host-like column and the burst's later lines, compared on one token, split; asking that
    # a column's values do not predict what follows (the fourth pass's (f), not a default)
    # keeps them one event, and still finds the syslog host column
    names = [f"{a}{b}" for a in ("ravo", "tesu", "bapi", "dori", "feno") for b in ("ma", "lu")]
    names += [f"{n}x" for n in names]
    others = ["instruction cache parity error", "data TLB error interrupt"]
    others += ["machine check interrupt raised", "ciod failed to read message"]
    burst = [f"generating core.{n}" for n in names[:16]] + others
    burst += [f"generating core.{n}" for n in names[16:]]
    independent = MinerSettings(header_independent=True)
    keys = TemplateMiner(settings=independent).templates_of(burst)
    assert len({k for k, m in zip(keys, burst, strict=True) if m.startswith("gen")}) == 1
    keys = TemplateMiner(settings=FIXED_SWITCHES).templates_of(burst)
    assert len({k for k, m in zip(keys, burst, strict=True) if m.startswith("gen")}) > 1
    verbs = ["open", "close", "read", "write", "seek", "sync", "stat"]
    lines = [syslog(i, f"{verbs[i % 7]} file of {u}") for i, u in enumerate(USERS * 2)]
    miner = TemplateMiner(settings=independent)
    miner.templates_of(lines)
    assert miner.prefix_length() == 7  # the host among five, followed by the same app


def test_a_start_up_burst_read_as_a_header_is_given_back_when_the_column_opens() -> None:
    # the same burst as above: header columns (the defaults) compare "generating core.<name>"
    # on one token while the first word reads as a header column, and those lines stay split;
    # with the decision revisited (the fifth pass's (g), not a default) the lines mined under
    # the withdrawn column join the burst's cluster once a sixth first word opens the column
    names = [f"{a}{b}" for a in ("ravo", "tesu", "bapi", "dori", "feno") for b in ("ma", "lu")]
    names += [f"{n}x" for n in names]
    others = ["instruction cache parity error", "data TLB error interrupt"]
    others += ["machine check interrupt raised", "ciod failed to read message"]
    burst = [f"generating core.{n}" for n in names[:16]] + others
    burst += [f"generating core.{n}" for n in names[16:]] + ["kernel panic in node"]
    revisited = TemplateMiner(settings=MinerSettings(header_revisit=True, source_choice=None))
    keys = revisited.templates_of(burst)
    assert len({k for k, m in zip(keys, burst, strict=True) if m.startswith("gen")}) == 1
    assert revisited.prefix_length() == 0
    keys = TemplateMiner(settings=FIXED_SWITCHES).templates_of(burst)
    assert len({k for k, m in zip(keys, burst, strict=True) if m.startswith("gen")}) > 1


def proxy_lines() -> list[str]:
    """A proxy's requests: twelve direct ones, then six that list their clients (two addresses,
    comma-separated: one token more, and the line's open end "took zeta 3")."""
    methods, words = ("GET", "POST", "PUT", "HEAD"), ("alpha", "beta", "gamma", "delta", "nu", "xi")
    lines = [
        f"client 10.0.{i}.7 {methods[i % 4]} path /v2/servers status 200 took {words[i % 6]} {i}"
        for i in range(12)
    ]
    return lines + [
        f"client 10.1.{i}.9,10.0.{i}.7 GET path /v2/servers status 200 took zeta {i}"
        for i in range(6)
    ]


def test_a_list_of_addresses_is_one_variable_when_value_lists_are_on() -> None:
    # a proxied request lists its clients (two addresses, comma-separated): one token more,
    # so Drain mines it apart from the direct ones, and the line's open end ("took zeta 3"
    # against "took <*>") keeps the variable-length part from joining them (headers OpenStack);
    # with a list as one variable (the fifth pass's (h), not a default) they are one event
    lines = proxy_lines()
    assert (
        len(
            set(
                TemplateMiner(
                    settings=MinerSettings(value_lists=True, source_choice=None)
                ).templates_of(lines)
            )
        )
        == 1
    )
    assert len(set(TemplateMiner(settings=FIXED_SWITCHES).templates_of(lines))) == 2


def test_a_json_line_is_read_as_its_fields_with_a_split_date_joined() -> None:
    # raw JSON lines reach the miner when they carry no message key the readers know; read as
    # fields (the fifth pass's (q), not a default) the quoted user is the word it names, so
    # each user's event is a template of its own, and a date logged in three fields is one
    # timestamp, so the month does not split them; mined raw it is the other way round
    lines, users = [], []
    for i in range(8):
        users.append(("root", "guest")[i % 2])
        month = ("Jun", "Jul")[i // 2 % 2]
        lines.append(
            f'{{"event": "authentication failure", "rhost": "10.0.0.{i}", "user": "{users[i]}",'
            f' "at": "Fri {month} {10 + i} 07", "m": "0{i}", "s": "00 2005"}}'
        )
    keys = TemplateMiner(settings=MinerSettings(json_fields=True, source_choice=None)).templates_of(
        lines
    )
    assert {u: {k for k, v in zip(keys, users, strict=True) if v == u} for u in users} == {
        "root": {keys[0]},
        "guest": {keys[1]},
    }
    assert keys[0] != keys[1] and "user root" in keys[0] and "<TIMESTAMP>" in keys[0]
    raw = TemplateMiner(settings=FIXED_SWITCHES).templates_of(lines)
    assert raw[0] == raw[1] and raw[0] != raw[2]  # users lumped, months split


# header columns with every switch off and no per-source choice: the defaults before the sixth
# pass on headers (issue 13), what the fifth pass's candidates were compared with
FIXED_SWITCHES = MinerSettings(source_choice=None)


def test_each_source_chooses_its_switches_on_its_own_lines() -> None:
    # Medic's miner as investigations use it (defaults, one window of several sources): a
    # proxy lists its clients, so a list's length would split its event in two; on another
    # source a start-up burst of one event reads as a header column and would split it. Each
    # source, on its own lines and no label, keeps the switches that mine it into the fewest
    # templates: lists as one variable for the first, the withdrawn column given back for the
    # second, so each event is one template; with the switches fixed off, each is split
    proxy = proxy_lines()
    names = [f"{a}{b}" for a in ("ravo", "tesu", "bapi", "dori", "feno") for b in ("ma", "lu")]
    names += [f"{n}x" for n in names]
    others = ["instruction cache parity error", "data TLB error interrupt"]
    others += ["machine check interrupt raised", "ciod failed to read message"]
    burst = [f"generating core.{n}" for n in names[:16]] + others
    burst += [f"generating core.{n}" for n in names[16:]] + ["kernel panic in node"]
    mixed = [LogLine(float(i), m, "", "proxy") for i, m in enumerate(proxy)]
    mixed += [LogLine(float(i), m, "", "node") for i, m in enumerate(burst)]

    def events(miner: TemplateMiner) -> tuple[int, int]:
        keys = miner.templates_of(mixed)
        proxied = {k for k, line in zip(keys, mixed, strict=True) if line.source == "proxy"}
        cores = {k for k, line in zip(keys, mixed, strict=True) if "generating" in line.message}
        return len(proxied), len(cores)

    miner = TemplateMiner()
    assert events(miner) == (1, 1)
    assert miner.chosen_switches("proxy") == (False, True, False)
    assert miner.chosen_switches("node") == (True, False, False)
    proxied, cores = events(TemplateMiner(settings=FIXED_SWITCHES))
    assert proxied == 2 and cores > 1
    # by description length (the sixth pass's (m), not a default) the burst is given back too,
    # but the proxy keeps its lists apart: their lengths cost less as two templates
    described = TemplateMiner(settings=MinerSettings(source_choice="description"))
    assert events(described) == (2, 1)
    with pytest.raises(ValueError, match="source_choice"):
        TemplateMiner(settings=MinerSettings(source_choice="fewest"))


USERS = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "ken",
    "liz",
]


KEY_VALUE_EVIDENCE = MinerSettings(delimiters=(":", ","), key_values="evidence")


def test_key_values_judged_by_the_data_mask_open_sets_and_keep_closed_ones() -> None:
    users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    messages = [f"login ok user={u} shard=s{i}x" for i, u in enumerate(users * 2)]
    messages += [f"logout done state={s} shard=s1x" for s in ["idle", "busy"] * 4]
    keys = TemplateMiner(settings=KEY_VALUE_EVIDENCE).templates_of(messages)
    assert set(keys[:16]) == {"login ok user= <*> shard= <*>"}
    assert set(keys[16:]) == {
        "logout done state=idle shard=s1x",
        "logout done state=busy shard=s1x",
    }


def test_an_unknown_key_value_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown key_values 'some'"):
        masking_instructions(key_values="some")
