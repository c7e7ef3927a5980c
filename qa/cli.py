"""The `qa` command: index a folder, ask a question, serve the API."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from qa.errors import IndexError_, QAError
from qa.settings import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Answer questions over a folder of documents, with cited sentences.",
)

IndexDir = Annotated[
    Path | None, typer.Option("--index-dir", help="index directory [env QA_INDEX_DIR]")
]


def settings_with(**overrides) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command("index")
def index_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(help="files or folders of .txt, .md, .html, .pdf and .docx documents"),
    ],
    index_dir: IndexDir = None,
    drop_uploads: Annotated[
        bool,
        typer.Option(
            "--drop-uploads",
            help="leave out the documents uploaded over HTTP (kept by default: their text "
            "is stored in the index only)",
        ),
    ] = False,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact",
            help="then merge the index's segments into one, without deleted documents",
        ),
    ] = False,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            help="tag every document read (repeat for more): questions can be scoped to a tag",
        ),
    ] = None,
) -> None:
    """Index the documents under PATHS (replacing what the index held, except documents
    uploaded over HTTP); only new and changed documents are embedded."""
    from index.build import index_paths, progress_bar
    from index.embed import document_embedder
    from index.files import KeptFiles
    from index.stores.segments import SegmentStore
    from qa.stores import store_kind, store_options

    settings = settings_with(index_dir=index_dir)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise QAError(f"no such file or folder: {', '.join(missing)}")
    tags = _tags(tag or [])
    embedder = document_embedder(settings.model, settings.indexing_runtime[0], settings.onnx_dir)
    files = KeptFiles(settings.kept_files)

    if settings.store == "milvus":
        counts, kept = _index_milvus(
            settings, paths, embedder, progress_bar(), not drop_uploads, tags, files
        )
    else:
        counts, kept = index_paths(
            paths,
            settings.index_dir,
            embedder,
            settings.chunking,
            progress_bar(),
            not drop_uploads,
            settings.budget,
            store_options(settings),
            tags,
            files,
        )
        if compact:
            store = SegmentStore(settings.index_dir, embedder.name, store_options(settings))
            store.compact()
    typer.echo(
        f"indexed {counts.documents} documents, {counts.sentences} sentences, "
        f"{counts.passages} passages into {store_kind(settings).where(settings)}"
    )
    _export_graphs(settings)
    if kept:
        typer.echo(
            f"kept {len(kept)} uploaded document{'s' if len(kept) > 1 else ''} "
            f"({', '.join(kept)}); --drop-uploads leaves them out"
        )


def _export_graphs(settings: Settings) -> None:
    """The encoders' ONNX graphs exported now (and quantized for int8), while torch is loaded
    anyway, so that `qa serve` starts without it (nothing to do when they are in QA_ONNX_DIR
    already)."""
    from index.networks import ONNX_RUNTIMES

    if settings.runtime not in ONNX_RUNTIMES:
        return
    from safetensors import SafetensorError

    from index.embed import DEFAULT_MODEL, minilm_graph
    from qa.read.cross import cross_graph
    from qa.read.rankers import chosen

    runtime = settings.runtime
    if settings.model == DEFAULT_MODEL:
        minilm_graph(settings.onnx_dir, runtime)
    if chosen(settings) == "cross":
        try:
            cross_graph(settings.trained_model_dir, settings.onnx_dir, runtime)
        except (OSError, RuntimeError, SafetensorError):  # `qa serve` says so; the index is fine
            pass


def _tags(tags: list[str]) -> list[str]:
    from qa.scope import check_tag

    return [check_tag(t) for t in tags]


def _index_milvus(settings: Settings, paths, embedder, progress, keep_uploads: bool, tags, files):
    """`qa index` into Milvus: the collections created if need be, then brought up to date
    with the folders, then compacted (BM25's candidates come from sealed segments)."""
    from index.sync import sync_store
    from qa.stores import MilvusStores

    store = MilvusStores().create(settings, embedder.name, embedder.dim, settings.chunking)
    counts, kept = sync_store(
        store, paths, embedder, progress, keep_uploads, settings.budget, tags, files
    )
    store.compact()
    return counts, kept


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question")],
    as_json: Annotated[bool, typer.Option("--json", help="print the full JSON response")] = False,
    top_k: Annotated[
        int | None, typer.Option(min=1, max=50, help="passages to read (1-50) [env QA_TOP_K]")
    ] = None,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="print the reply as it is generated (to stderr with --json), then the "
            "grounded answer",
        ),
    ] = False,
    index_dir: IndexDir = None,
    document: Annotated[
        list[str] | None,
        typer.Option("--document", help="answer only from this document (repeat for more)"),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="answer only from the documents tagged so (repeatable)"),
    ] = None,
) -> None:
    """Answer one question from the index [backend: env QA_ANSWERER]."""
    from qa.engine import Engine
    from qa.read.answer import Answer

    engine = Engine(settings_with(index_dir=index_dir))
    if not engine.ready:
        raise IndexError_(engine.load_error)
    if stream:
        result = None
        for event in engine.stream(question, top_k, document or [], tag or []):
            if isinstance(event, Answer):
                result = event
            else:
                typer.echo(event, nl=False, err=as_json)
        typer.echo("\n", err=as_json)
    else:
        result = engine.ask(question, top_k, document or [], tag or [])
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(result.answer if result.answer else "(no answer)")
    typer.echo(result.text)
    for c in result.citations:
        where = f" (page {c.page_label or c.page})" if c.page else ""
        where += f" (under {c.section})" if c.section else ""
        typer.echo(f"  [{c.n}] {c.doc_id}:{c.start}-{c.end}{where}")
    if result.fallback:
        typer.echo(
            f"(the model's reply could not be grounded: this is the {result.fallback} answer)"
        )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="[env QA_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="[env QA_PORT]")] = None,
    index_dir: IndexDir = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="serve on a non-loopback address without API keys (anyone who can reach "
            "it may change the documents)",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API and the chat page."""
    from qa.http.api import create_app
    from qa.http.security import refuse_open_server
    from qa.http.server import serve as run_server

    settings = settings_with(host=host, port=port, index_dir=index_dir)
    refuse_open_server(settings, insecure)
    run_server(create_app(settings), settings)


@app.command()
def migrate(
    direction: Annotated[
        str,
        typer.Argument(
            help="to-milvus: copy the index folder into Milvus | to-faiss: copy Milvus's "
            "documents into the index folder"
        ),
    ],
    index_dir: IndexDir = None,
    milvus_uri: Annotated[
        str | None, typer.Option(help="Milvus to copy to or from [env QA_MILVUS_URI]")
    ] = None,
    milvus_prefix: Annotated[
        str | None, typer.Option(help="its collections' prefix [env QA_MILVUS_PREFIX]")
    ] = None,
) -> None:
    """Copy an index between the index folder and Milvus, either way, with its vectors:
    nothing is embedded again. The destination ends up holding what the source holds."""
    from tqdm import tqdm

    from index.migrate import to_folder, to_milvus
    from index.stores.interface import Counts
    from index.stores.milvus import MilvusStore, connect

    if direction not in ("to-milvus", "to-faiss"):
        raise QAError(f"unknown direction {direction!r}: to-milvus or to-faiss")
    settings = settings_with(
        index_dir=index_dir, milvus_uri=milvus_uri, milvus_prefix=milvus_prefix
    )
    token = settings.milvus_token.get_secret_value() if settings.milvus_token else None
    client = connect(settings.milvus_uri, token)
    where = f"Milvus {settings.milvus_uri} ({settings.milvus_prefix}_*)"
    if direction == "to-milvus":

        def progress(batches: list) -> tqdm:
            return tqdm(batches, unit="batch", desc="copying", disable=None)

        store = to_milvus(settings.index_dir, client, settings.milvus_prefix, progress)
        counts = store.counts()
        source, target = settings.index_dir, where
    else:
        index = to_folder(MilvusStore(client, settings.milvus_prefix), settings.index_dir)
        counts = Counts(**index.counts())
        source, target = where, settings.index_dir
    typer.echo(
        f"copied {counts.documents} documents, {counts.sentences} sentences, "
        f"{counts.passages} passages from {source} to {target}"
    )


keys_app = typer.Typer(no_args_is_help=True, help="API keys for the HTTP API (QA_API_KEYS).")
app.add_typer(keys_app, name="keys")


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="who the key is for; recorded with their uploads")],
    key_file: Annotated[
        Path | None,
        typer.Option("--file", help="the key file [default: @FILE of env QA_API_KEYS]"),
    ] = None,
) -> None:
    """Create a key, append its name and SHA-256 digest to the key file, and print the key
    (only now: the file keeps its digest alone)."""
    from qa.http.keys import add_key

    if key_file is None:
        setting = Settings().api_keys
        value = setting.get_secret_value().strip() if setting else ""
        if not value.startswith("@"):
            raise QAError("name the key file: set QA_API_KEYS=@FILE, or pass --file FILE")
        key_file = Path(value[1:]).expanduser()
    key = add_key(key_file, name)
    typer.echo(f"added key {name!r} to {key_file}; it is shown only now:", err=True)
    typer.echo(key)


def run_cli(cli: Callable[[], object]) -> None:
    """Run a command line (a typer app, or a script's ``main``) with one-line errors and a
    non-zero exit instead of tracebacks."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        cli()
    except (QAError, IndexError_, OSError, ValueError) as exc:
        typer.echo(f"error: {_one_line(exc)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a user sees one line, never a traceback
        typer.echo(f"error: {type(exc).__name__}: {_one_line(exc)}", err=True)
        sys.exit(1)


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines)[:500] if lines else type(exc).__name__


def main() -> None:
    run_cli(app)
