"""Lines of a benchmark corpus file (Nezha's index and gzip CSVs, loghub's structured CSVs), read
with a bound: a file that is no corpus - a sparse file, a disk image, a gzip bomb, ``/dev/zero``
behind a link - is refused naming it once one line passes the bound, not read into memory whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from knowledge.errors import CorpusError
from knowledge.log_files import LineStream

MAX_CORPUS_LINE_BYTES = 16 * 2**20  # as the CSV field limit of the Nezha reader


def corpus_lines(stream: LineStream, where: Path) -> Iterator[str]:
    """Each line of ``stream`` as text (bytes that are not UTF-8 replaced, line ends kept, as
    ``csv`` wants them); ``CorpusError`` at the first line over ``MAX_CORPUS_LINE_BYTES``,
    having read no more of it."""
    number = 0
    while line := stream.readline(MAX_CORPUS_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_CORPUS_LINE_BYTES:
            raise CorpusError(
                f"{where}:{number}: a line over {MAX_CORPUS_LINE_BYTES // 2**20} MiB: "
                "not a corpus file"
            )
        yield line.decode("utf-8", "replace")
