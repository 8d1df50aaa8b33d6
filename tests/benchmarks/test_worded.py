from __future__ import annotations

import json
import re

from benchmarks.generalization.worded import (
    SHAPES,
    as_phrase,
    headered_line,
    json_line,
    phrase_for,
    shaped_line,
    shaped_value,
    syslog_line,
    word_for,
    worded_line,
)

TEMPLATE = "Deleting block blk_<*> file <*> for user <*>"


def _matches(template: str, line: str) -> bool:
    pattern = "^" + "(.*?)".join(re.escape(p) for p in template.split("<*>")) + "$"
    return re.match(pattern, line) is not None


def test_worded_lines_still_fit_their_ground_truth_template() -> None:
    line = "Deleting block blk_-6330812010936261924 file /mnt/dfs/subdir32/blk_1350 for user u42x"
    events = [f"E{i}" for i in range(40)]
    worded = [worded_line(line, event, TEMPLATE) for event in events]
    assert all(_matches(TEMPLATE, w) for w in worded)
    # some slots are rewritten, some are not, and a rewritten id has no digits left
    assert any(w != line for w in worded) and any(w == line for w in worded)
    assert any("blk_-" + word_for("6330812010936261924") in w for w in worded)


def test_the_same_value_becomes_the_same_word_and_short_numbers_stay() -> None:
    assert word_for("50010") == word_for("50010") != word_for("50011")
    assert word_for("50010").isalpha()
    line = "PacketResponder 1 for block blk_38865049064139660 terminating"
    template = "PacketResponder <*> for block blk_<*> terminating"
    worded = {worded_line(line, f"E{i}", template) for i in range(40)}
    assert all(w.startswith("PacketResponder 1 for block") for w in worded)


def test_a_line_that_does_not_fit_its_template_is_left_alone() -> None:
    assert worded_line("something else 123", "E1", TEMPLATE) == "something else 123"


def test_a_phrased_variable_is_one_to_three_words_and_still_fits_its_template() -> None:
    lengths = {len(phrase_for(str(n)).split()) for n in range(200)}
    assert lengths == {1, 2, 3}
    line = "Deleting block blk_-6330812010936261924 file /mnt/dfs/subdir32/blk_1350 for user u42x"
    phrased = {worded_line(line, f"E{i}", TEMPLATE, as_phrase) for i in range(40)}
    assert all(_matches(TEMPLATE, p) for p in phrased)
    assert any(" for user " + phrase_for("u42x") in p for p in phrased)


def test_the_headers_view_writes_variables_as_key_value_behind_a_header() -> None:
    line = "Deleting block blk_-63308 file /mnt/dfs/blk_1350 for user john smith"
    shown = headered_line(line, "E1", TEMPLATE, 7)
    assert shown.startswith("ts=2026-12-07T00:00:07.") and " level=info host=" in shown
    key = word_for("E1/2/key")
    assert shown.endswith(f' for user {key}="john smith"')
    assert headered_line(line, "E1", TEMPLATE, 7) == shown


def test_the_syslog_view_puts_an_rfc5424_header_before_the_worded_message() -> None:
    line = "Deleting block blk_-6330812010936261924 file /mnt/dfs/subdir32/blk_1350 for user u42x"
    shown = syslog_line(line, "E1", TEMPLATE, 7, "hdfs")
    header = shown.split()[:7]
    assert header[0] == "<134>1" and header[1].startswith("2026-12-07T00:00:07.")
    assert header[2].isalpha() and header[3:] == ["hdfs", header[4], "-", "-"]
    assert header[4].isdigit()
    assert " ".join(shown.split()[7:]) == worded_line(line, "E1", TEMPLATE)
    hosts = {syslog_line(line, "E1", TEMPLATE, n, "hdfs").split()[2] for n in range(200)}
    assert len(hosts) == 5


def test_the_json_view_makes_each_variable_a_field_and_msg_the_constant_text() -> None:
    line = 'Deleting block blk_-63308 file /mnt/"dfs" for user 42'
    record = json.loads(json_line(line, "E1", TEMPLATE, 7))
    assert record["ts"].startswith("2026-12-07T00:00:07.") and record["level"] in {"info", "warn"}
    assert record["msg"] == "Deleting block blk_ file for user"
    keys = [word_for(f"E1/{i}/key") for i in range(3)]
    assert [record[k] for k in keys] == [-63308, '/mnt/"dfs"', 42]
    # a line that does not fit its template is its own message
    assert json.loads(json_line("other 1", "E1", TEMPLATE, 7))["msg"] == "other 1"


SHAPE_OF = {
    "path": r"/var/lib/[a-z]+/[a-z]+/[a-z]+",
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "hex": r"[0-9a-f]{12}",
    "base64": r"[A-Za-z0-9+/]{6,}={0,2}",
    "host:port": r"[a-z]+-\d{1,2}\.[a-z]+\.internal:\d{4,5}",
}


def test_the_shapes_view_respells_ids_as_paths_uuids_hex_base64_and_host_port() -> None:
    line = "Deleting block blk_-6330812010936261924 file /mnt/dfs/subdir32/blk_1350 for user u42x"
    shaped = {shaped_line(line, f"E{i}", TEMPLATE) for i in range(60)}
    assert all(_matches(TEMPLATE, s) for s in shaped) and line in shaped
    seen = set()
    for i in range(60):
        value = shaped_value("blk_1350", f"E{i}/1")
        seen.add(next(n for n, p in SHAPE_OF.items() if re.fullmatch(p, value)))
        assert shaped_value("blk_1350", f"E{i}/1") == value  # the same value, the same spelling
    assert seen == set(SHAPES)
    assert shaped_value("root", "E1/1") == "root"  # a value without a digit stays
