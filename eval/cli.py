"""The ``eval`` command (``python -m eval`` and ``qa eval``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = "Score the service on a JSONL Q&A set: answers, retrieval, citations, refusals, latency."


def evaluate(
    qa: Annotated[Path | None, typer.Option("--qa", help="JSONL Q&A file")] = None,
    docs: Annotated[
        Path | None,
        typer.Option(
            help="docs folder: indexed for an in-process run; with --url, used to check citation offsets"
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("runs/latest"),
    url: Annotated[
        str | None, typer.Option(help="base URL of a running service, e.g. http://127.0.0.1:8000")
    ] = None,
    index_dir: Annotated[
        Path | None,
        typer.Option("--index-dir", help="index for in-process runs (default OUT/index)"),
    ] = None,
    top_k: Annotated[
        int | None, typer.Option("--top-k", min=1, max=50, help="passages read per question")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="ask only the first N questions")] = None,
    sample: Annotated[
        int | None, typer.Option(min=1, help="ask a random sample of N questions")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed for --sample and --unanswerable-share")] = 0,
    strict: Annotated[
        bool, typer.Option("--strict", help="stop at the first malformed line or unknown doc")
    ] = False,
    unanswerable_share: Annotated[
        float,
        typer.Option(
            "--unanswerable-share",
            min=0.0,
            max=0.9,
            help="make this share of questions unanswerable by leaving their paragraphs out of the index",
        ),
    ] = 0.0,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(help="print the figures of two runs (folders or metrics.json) side by side"),
    ] = None,
) -> None:
    """Score the service on a JSONL Q&A set: answers, retrieval, citations, refusals, latency."""
    from eval.errors import EvalError

    if compare:
        from eval.compare import format_comparison

        typer.echo(format_comparison(*compare))
        return
    if qa is None:
        raise EvalError("give --qa FILE (and --docs DIR or --url URL), or --compare A B")

    from eval.run import RunConfig
    from eval.run import evaluate as run_eval
    from qa.settings import Settings

    config = RunConfig(
        qa=qa,
        out=out,
        docs=docs,
        url=url,
        index_dir=index_dir,
        top_k=top_k,
        limit=limit,
        sample=sample,
        seed=seed,
        strict=strict,
        unanswerable_share=unanswerable_share,
    )
    outcome = run_eval(config, Settings())
    typer.echo(summary_lines(outcome.metrics))
    typer.echo(f"wrote {', '.join(str(p) for p in outcome.paths.values())}")


def summary_lines(metrics: dict) -> str:
    m = metrics["overall"]
    a, r, e, c, ref, lat = (
        m["answer"],
        m["retrieval"],
        m["evidence"],
        m["citations"],
        m["refusals"],
        m["latency_ms"],
    )

    def f(v, pct=False):
        return "–" if v is None else (f"{100 * v:.1f}" if pct else f"{v:.3f}")

    def ms(v):
        return "–" if v is None else f"{v:.1f}"

    return "\n".join(
        [
            f"{m['questions']} questions ({m['answerable']} answerable, {m['unanswerable']} unanswerable, {m['errors']} errors)",
            f"answer EM {f(a['em'], True)}  F1 {f(a['f1'], True)}",
            f"gold doc recall@1 {f(r['recall@1'])}  @5 {f(r['recall@5'])}  @10 {f(r['recall@10'])}  MRR {f(r['mrr'])}",
            f"evidence hit@1 {f(e['hit@1'])}  hit@k {f(e['hit@k'])}  citation precision {f(c['precision'])}  bad offsets {c['bad_offsets']}",
            f"refused: unanswerable {f(ref['unanswerable_refused'])}  answerable {f(ref['answerable_refused'])}  AUC {f(ref.get('auc'))} (within articles {f(ref.get('auc_within_groups'))})",
            f"latency p50 {ms(lat['p50'])} ms  p95 {ms(lat['p95'])} ms  max {ms(lat['max'])} ms  {ms(m.get('qps'))} q/s",
        ]
    )


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, help=HELP)
app.command(help=HELP)(evaluate)
