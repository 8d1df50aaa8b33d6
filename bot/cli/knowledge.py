"""`medic ingest`, `medic search`, `medic knowledge` and the knowledge evaluations
(`medic eval rca`, `medic eval templates`): the incident memory from the command line."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.errors import CommandGroup, printable, reports_errors
from bot.cli.eval import eval_app, evaluation_run, mlflow_store, print_result
from bot.cli.options import MlflowOption, MlflowUriOption
from bot.cli.output import console, say
from bot.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.wiring import Wiring
    from knowledge.search import Encoder
    from knowledge.search_index import SearchIndex

ingest_app = typer.Typer(
    help="Feed the incident memory: logs, postmortems.", no_args_is_help=True, cls=CommandGroup
)
knowledge_app = typer.Typer(
    help="Maintain the incident memory.", no_args_is_help=True, cls=CommandGroup
)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print a JSON summary as the last line of output.")
]
DataOption = Annotated[Path, typer.Option("--data", help="Directory of the benchmark data.")]
SEARCH_DIR = "search"  # the search indexes of `medic search`, in the data directory
MAX_SEARCH_TEXT = 1000  # characters, as `/medic search`


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(knowledge_app, name="knowledge")
    app.command()(search)


def _wiring() -> Wiring:
    """The adapters of this command, from settings read once."""
    from bot.config import load_settings
    from bot.wiring import Wiring

    return Wiring(load_settings())


def _warn(report: Any) -> None:
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)


@ingest_app.command("logs")
@reports_errors
def ingest_logs(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories; - reads stdin.")],
    as_json: JsonOption = False,
) -> None:
    """Mine log templates from files (plain, JSON lines, gzip), directories or stdin into the
    template state of the data directory."""
    from knowledge.log_files import ReadReport, read_logs
    from knowledge.template_state import load_miner, save_miner, state_path

    started = time.perf_counter()
    path = state_path(_wiring().data_dir)
    miner = load_miner(path)
    before = miner.cluster_count
    report = ReadReport()
    templates = set(miner.templates_of(read_logs(paths, report, sys.stdin.buffer)))
    save_miner(miner, path)
    _warn(report)
    summary = {
        "lines": report.lines,
        "files": report.files,
        "skipped": dict(report.skipped),
        "templates": len(templates),
        "new_clusters": miner.cluster_count - before,
        "seconds": round(time.perf_counter() - started, 3),
    }
    say(
        f"{report.summary()}: {len(templates)} templates ({summary['new_clusters']} new)",
        as_json=as_json,
    )
    if as_json:
        typer.echo(json.dumps(summary))


@ingest_app.command("postmortems")
@reports_errors
def ingest_postmortems(
    path: Annotated[Path, typer.Argument(help="A Markdown or JSON-lines file, or a directory.")],
    as_json: JsonOption = False,
) -> None:
    """Chunk, embed and store postmortems (Markdown; JSON lines with title/summary/body/url)."""
    from rich.progress import Progress

    from knowledge.log_files import ReadReport
    from knowledge.postmortems import PostmortemLibrary, read_postmortems

    if not path.exists():
        raise InputError(f"{path} does not exist: give a postmortem file or directory")
    started = time.perf_counter()
    report = ReadReport()
    found = list(read_postmortems(path, report))
    wiring = _wiring()
    library = PostmortemLibrary(wiring.vector_store, wiring.embedder)
    with Progress(console=console(as_json=True), transient=True) as progress:  # never output
        task = progress.add_task("embedding postmortems", total=len(found))
        documents, chunks = library.ingest(found, lambda n: progress.advance(task, n))
    _warn(report)
    say(
        f"ingested {documents} postmortems as {chunks} chunks from {report.files} files",
        as_json=as_json,
    )
    if as_json:
        summary = {
            "postmortems": documents,
            "chunks": chunks,
            "skipped": dict(report.skipped),
            "stored": library.count(),
            "seconds": round(time.perf_counter() - started, 3),
        }
        typer.echo(json.dumps(summary))


@reports_errors
def search(
    text: Annotated[str, typer.Argument(help="What to look for.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 5,
    as_json: JsonOption = False,
) -> None:
    """Search postmortems and remembered incidents (BM25 keywords + embeddings); results that
    are not close matches for the question are shown as the nearest ones."""
    from bot import messages
    from knowledge.search import HybridSearch

    if not text.strip():
        raise InputError("give some text to search for")
    if len(text) > MAX_SEARCH_TEXT:
        raise InputError(f"search text is {len(text)} characters; give at most {MAX_SEARCH_TEXT}")
    indexes, encode = _search_indexes()
    hits = HybridSearch(indexes, encode).search(text, limit)
    close = any(hit.relevant for hit in hits)
    if hits and not close:
        say(messages.SEARCH_NO_CLOSE_MATCH.format(text=text), as_json=as_json)
    for hit in hits:  # a stored postmortem is anyone's text: no terminal control reaches stdout
        say(
            f"{hit.score:.2f}  [{hit.kind}] {printable(hit.title)}"
            + (f"  {printable(hit.url)}" if hit.url else "")
            + ("" if hit.relevant or not close else f"  {messages.SEARCH_NOT_CLOSE}"),
            as_json=as_json,
        )
        say(f"      {printable(hit.snippet)}", as_json=as_json)
    if not hits:
        say(
            "nothing found (ingest postmortems with `medic ingest postmortems PATH`)",
            as_json=as_json,
        )
    if as_json:
        found = {"query": text, "close_match": close, "hits": [vars(h) for h in hits]}
        typer.echo(json.dumps(found))


def _search_indexes() -> tuple[list[SearchIndex], Encoder]:
    """The search indexes of postmortems and incidents and the query encoder. When the
    embedded store has not been written since the indexes were saved, they are read from
    their files and the store is not opened (importing and opening Chroma cost a terminal user
    seconds)."""
    from bot import messages
    from bot.config import load_settings
    from bot.wiring.process import CHROMA
    from knowledge.query_encoder import query_encoder
    from knowledge.search_index import load_current, mark_current, store_stamp

    settings = load_settings()
    store = None if settings.chroma_url else settings.data_dir / CHROMA
    directory = settings.data_dir / SEARCH_DIR
    indexes = load_current(directory, store_stamp(store)) if store else None
    if indexes is not None:
        return indexes, query_encoder()
    from bot.wiring import Wiring
    from knowledge.memory import COLLECTION as INCIDENTS
    from knowledge.postmortems import COLLECTION as POSTMORTEMS
    from knowledge.search_index import open_index
    from knowledge.store import collection

    wiring = Wiring(settings)
    embedder = wiring.embedder
    client = wiring.vector_store
    names = (POSTMORTEMS, INCIDENTS)
    indexes = [open_index(collection(client, n, embedder), directory) for n in names]
    if store is not None:
        try:
            mark_current(directory, indexes, store_stamp(store))
        except OSError as exc:  # a cache: the search answers all the same
            reason = exc.strerror or type(exc).__name__
            typer.echo(
                messages.SEARCH_INDEXES_UNSAVED.format(where=directory, why=reason), err=True
            )
    return indexes, query_encoder()


@knowledge_app.command("reindex")
@reports_errors
def reindex() -> None:
    """Re-embed every stored incident and postmortem with the current embedding model, and
    rebuild the keyword indexes of search."""
    import shutil

    from knowledge.embeddings import model_version
    from knowledge.store import reindex as rebuild

    wiring = _wiring()
    counts = rebuild(wiring.vector_store, wiring.embedder)
    shutil.rmtree(wiring.data_dir / SEARCH_DIR, ignore_errors=True)  # rebuilt on the next search
    for name, count in counts.items():
        typer.echo(f"{name}: {count} documents re-embedded with {model_version()}")


@knowledge_app.command("repair")
@reports_errors
def repair() -> None:
    """Move a corrupted template state, sources' template choices or embedded Chroma directory
    aside (kept, renamed), so the next run starts fresh. Healthy ones are left alone."""
    from bot.wiring.process import CHROMA
    from knowledge.errors import KnowledgeError
    from knowledge.store import move_aside, open_chroma
    from knowledge.template_state import choices_path, load_choices, load_miner, state_path

    data_dir = _wiring().data_dir
    state = state_path(data_dir)
    # the choices first: loading the state reads them too, and a broken choice file alone
    # should not cost the state
    checks: list[tuple[Path, Callable[[Path], object]]] = [
        (choices_path(state), load_choices),
        (state, load_miner),
        (data_dir / CHROMA, open_chroma),
    ]
    moved = 0
    for path, opener in checks:
        if not path.exists():
            continue
        try:
            opener(path)
        except KnowledgeError as exc:
            typer.echo(f"{exc}\nmoved to {move_aside(path)}")
            moved += 1
    typer.echo("nothing to repair" if not moved else f"{moved} store(s) moved aside")


def _check_data(data: Path) -> None:
    if not data.is_dir():
        raise InputError(f"--data {data} is not a directory")


@eval_app.command("rca")
@reports_errors
def eval_rca(
    data: DataOption,
    log_candidates: Annotated[
        int | None,
        typer.Option(
            "--log-candidates",
            min=0,
            max=500,
            help="Services whose logs the screened ranking reads, as a live investigation "
            "does (default: investigation.log_candidates).",
        ),
    ] = None,
    log_lines_per_second: Annotated[
        float | None,
        typer.Option(
            "--log-lines-per-second",
            min=1.0,
            max=1e9,
            help="Emulate investigation.log_seconds for a log source this fast (plus "
            "--log-request-seconds a read): only the logs read in time count "
            "(localization_timed). Default: not emulated.",
        ),
    ] = None,
    log_request_seconds: Annotated[
        float,
        typer.Option(
            "--log-request-seconds",
            min=0.0,
            max=60.0,
            help="With --log-lines-per-second: what each read costs before its lines.",
        ),
    ] = 0.05,
    as_json: JsonOption = False,
    mlflow: MlflowOption = False,
    mlflow_uri: MlflowUriOption = None,
) -> None:
    """Rank root-cause services (AS@1/3/5) with the live ranker - every service's logs read, and
    only the screened few's as a live investigation reads them, against no history, the earlier
    incidents only, or all others - and retrieve similar incidents leave-one-out (hit@1/3, MRR)
    on Nezha incidents; TF-IDF retrieval baseline in the same run."""
    from bot.config import load_settings
    from bot.wiring import embedding_model
    from knowledge.evaluation.rca import LogSpeed, evaluate_rca

    _check_data(data)
    settings = load_settings()
    store = mlflow_store(mlflow, mlflow_uri, settings)
    live = settings.investigation
    if log_candidates is None:
        log_candidates = live.log_candidates
    with tempfile.TemporaryDirectory() as workdir:
        result = evaluate_rca(
            data,
            embedding_model(),
            Path(workdir),
            lambda s: typer.echo(s, err=True),
            log_candidates=log_candidates,
            max_log_lines=live.max_log_lines,
            speed=None
            if log_lines_per_second is None
            else LogSpeed(live.log_seconds, log_lines_per_second, log_request_seconds),
        )
    for row in result["per_incident"] if not as_json else []:
        typer.echo(
            f"{row['id']}: {row['root_cause']} ({row['fault_type']}) ranked {row['rank']}, "
            f"screened {row['screened_rank']}, with no history {row['fresh_rank']}, "
            f"with earlier incidents only {row['earlier_only_rank']}"
        )
    if not as_json:
        result.pop("per_incident")
    options: dict[str, object] = {"data": data, "log_candidates": log_candidates}
    if log_lines_per_second is not None:
        options |= {"log_lines_per_second": log_lines_per_second}
        options |= {"log_request_seconds": log_request_seconds}
    print_result(result, store, lambda: evaluation_run("rca", options, settings, [data]))


@eval_app.command("postmortems")
@reports_errors
def eval_postmortems(
    data: DataOption,
    queries: Annotated[
        Path | None,
        typer.Option(
            "--queries",
            help="Questions (JSON lines: question, relevant canonical ids, split); default: "
            "knowledge/evaluation/postmortem_questions.jsonl.",
        ),
    ] = None,
    split: Annotated[
        str, typer.Option("--split", help="dev (where parameters were chosen), test, or all.")
    ] = "test",
    as_json: JsonOption = False,
    mlflow: MlflowOption = False,
    mlflow_uri: MlflowUriOption = None,
) -> None:
    """Postmortem search (hit@1/3/10, MRR@10) on the questions' split, beside BM25 alone and
    embeddings alone in the same run, and the share of off-topic questions given a result
    marked relevant. The JSON corpora under --data are embedded into a fresh store."""
    from bot import messages
    from bot.config import load_settings
    from bot.wiring import embedding_model
    from knowledge.evaluation.postmortems import (
        QUESTIONS,
        SPLITS,
        evaluate_postmortems,
        load_questions,
    )

    _check_data(data)
    if split not in SPLITS:
        raise InputError(f"--split {split!r}: give one of {', '.join(SPLITS)}")
    questions_file = queries or QUESTIONS
    try:
        load_questions(questions_file)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        message = messages.EVAL_QUESTIONS_UNREADABLE.format(path=questions_file, why=why)
        raise InputError(message) from exc
    settings = load_settings()
    store = mlflow_store(mlflow, mlflow_uri, settings)
    with tempfile.TemporaryDirectory() as workdir:
        result = evaluate_postmortems(
            data,
            questions_file,
            embedding_model(),
            Path(workdir),
            split,
            lambda s: typer.echo(s, err=True),
        )
    if not as_json:
        result.pop("misses")
    options = {"data": data, "queries": questions_file, "split": split}
    print_result(
        result,
        store,
        lambda: evaluation_run("postmortems", options, settings, [data, questions_file]),
    )


@eval_app.command("templates")
@reports_errors
def eval_templates(
    data: DataOption,
    as_json: JsonOption = False,
    mlflow: MlflowOption = False,
    mlflow_uri: MlflowUriOption = None,
) -> None:
    """Grouping accuracy of template mining per loghub system, against default Drain3."""
    from bot.config import load_settings
    from knowledge.evaluation.grouping import evaluate_templates

    _check_data(data)
    settings = load_settings()
    store = mlflow_store(mlflow, mlflow_uri, settings)
    result = evaluate_templates(data)
    if not as_json:
        for system, accuracy in result["systems"].items():
            baseline = result["baseline_drain3_default"]["systems"][system]
            typer.echo(f"{system:12s} {accuracy:.4f}  (Drain3 default {baseline:.4f})")
    print_result(
        result, store, lambda: evaluation_run("templates", {"data": data}, settings, [data])
    )
