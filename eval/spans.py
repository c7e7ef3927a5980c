"""Who reads the short answer better in the same best sentence: the reader (the sentence
alone) or the verifier (the sentence with its neighbours, qa/read/verify.py)? Each
answerable question goes through the pipeline as the service answers it; both spans of its
best sentence are scored against the answers (F1, refusals aside).

    python -m eval.spans --qa runs/cross/heldout.jsonl --index-dir runs/dev13/index [--limit 1000]

Prints F1 of the reader's span, the verifier's, the one with the higher span score, the
reader's where its score leads by more than a margin, and the better of the two (a ceiling).
Needs a model whose refusal model was fitted with the verifier (the shipped one)."""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path

from eval.data import load_qa
from eval.metrics import best_f1, mean

MARGINS = (2.0, 4.0, 8.0)


def read_both(qa: Path, index_dir: Path, limit: int | None, seed: int = 0) -> list[dict]:
    """Per answerable question with a best sentence: both spans' F1 and scores."""
    from qa.engine import Engine
    from qa.read.pipeline import find
    from qa.settings import Settings

    items = [i for i in load_qa(qa).items if i.answers]
    random.Random(seed).shuffle(items)
    engine = Engine(Settings(index_dir=index_dir))
    pipeline = engine.answerer
    if pipeline is None:
        raise SystemExit(f"no index in {index_dir}: {engine.load_error}")
    if pipeline.verifier is None:
        raise SystemExit("the refusal model was fitted without a verifier: nothing to compare")
    rows = []
    for item in items[:limit]:
        # without the verifier: found.span is the reader's; the verifier reads once below
        found = find(
            pipeline.retriever, pipeline.ranker, pipeline.reader, item.question, pipeline.top_k
        )
        if not found.ranked:
            continue
        best, read = found.ranked[0], found.span
        verdict = pipeline.verifier.verify(item.question, best, found.retrieval)
        if read is None or verdict.span is None:
            continue
        text = best.sentence.text
        rows.append(
            {
                "id": item.id,
                "reader": best_f1(text[read.start : read.end], item.answers),
                "verifier": best_f1(text[verdict.span.start : verdict.span.end], item.answers),
                "reader_score": read.score,
                "verifier_score": verdict.span.score,
            }
        )
    return rows


def summary(rows: Sequence[dict]) -> dict[str, float]:
    """F1 (%) of each way to choose the span."""

    def chosen(margin: float) -> float:
        return mean(
            [
                r["reader"] if r["reader_score"] - r["verifier_score"] > margin else r["verifier"]
                for r in rows
            ]
        )

    out = {
        "reader": mean([r["reader"] for r in rows]),
        "verifier": mean([r["verifier"] for r in rows]),
        "higher score": chosen(0.0),
    }
    out |= {f"reader when it leads by {m:g}": chosen(m) for m in MARGINS}
    out["better of the two"] = mean([max(r["reader"], r["verifier"]) for r in rows])
    return {k: round(100 * v, 1) for k, v in out.items()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m eval.spans", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--qa", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--limit", type=int, help="at most this many questions (a random sample)")
    args = parser.parse_args(argv)
    rows = read_both(args.qa, args.index_dir, args.limit)
    print(f"{len(rows)} answerable questions with both spans in their best sentence")
    for name, f1 in summary(rows).items():
        print(f"  {name}: F1 {f1}")


if __name__ == "__main__":
    main()
