"""SQuAD 1.1 train as a training collection for ``train.train_cross``: paragraphs drawn from
every article (but those held out for measuring) as documents, and a sample of their
questions in the eval format.

    python -m train.squad_collection ../shared/data/squad11-train/squad11_train_paragraphs.jsonl.gz \\
        --hold-out ../shared/data/squad20-train-first10/train-v2.0-first10articles.json \\
        --paragraphs 12 --questions 9000 --out runs/squad11

The variety is the point (issue 13): the same number of paragraphs from each of the 432
articles rather than every paragraph of a few, so the retriever's nominees for a question
are the sibling paragraphs of its own article (the hard negatives) and a few from others.
Documents are named ``Title__p000.txt`` as in squad11-dev13, so the split by article of
``train.train_cross`` works the same way; the evidence of a question is the sentence (as
the index splits it) holding its answer. Fixed seed: the same collection every run.

With ``--unanswerable`` (SQuAD 2.0's real unanswerable questions, each with the answerable
question it was written from: ../shared/data/squad20-train-unanswerable-unansq), the
collection also holds ``--unanswerable-questions`` of them with their paragraphs, in the
eval format with ``answers: []``, ``evidence`` the sentence holding the span a careless
reader would pick, and ``paired`` the id of their answerable twin, which joins the answerable
questions. ``--calibration-articles`` of its articles are kept apart for fitting refusals:
their paragraphs join the documents, and their questions (SQuAD 1.1's answerable ones and
the unanswerable ones) go to ``calibration.jsonl`` instead of ``qa.jsonl``; nothing of them is
trained on. ``--also QA DOCS`` appends another collection as it is (e.g. dev13's)."""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from eval.squad2 import evidence_sentence
from train.answerability import held_out_titles


def sample(paragraphs: list[dict], per_article: int, questions: int, seed: int):
    """(paragraphs kept, questions kept as (paragraph, qa)): ``per_article`` paragraphs of
    each article at random, then ``questions`` of their questions at random."""
    rng = random.Random(seed)
    by_article: dict[str, list[dict]] = defaultdict(list)
    for p in paragraphs:
        by_article[p["title"]].append(p)
    kept = []
    for title in sorted(by_article):
        group = by_article[title]
        kept += rng.sample(group, min(per_article, len(group)))
    asked = [(p, qa) for p in kept for qa in p["qas"]]
    return kept, rng.sample(asked, min(questions, len(asked)))


def doc_name(p: dict) -> str:
    return f"{p['title']}__p{p['para_index']:03d}.txt"


def rows(asked, prefix: str = "train") -> list[dict]:
    """The questions (paragraph, qa) in the eval format: SQuAD 1.1's (``answer``) answerable,
    SQuAD 2.0's unanswerable (``plausible_answers``, ``paired``) with ``answers: []``."""
    out, ids = [], {}
    for p, qa in asked:
        row_id = qa.get("id") or f"{prefix}-{len(out)}"
        ids[(p["title"], p["para_index"], qa["question"].strip())] = row_id
        if "answer" in qa:
            answers, start = [qa["answer"]], qa["answer_start"]
        else:
            answers, start = [], qa["plausible_answers"][0]["answer_start"]
        out.append(
            {
                "id": row_id,
                "question": qa["question"],
                "answers": answers,
                "doc": doc_name(p),
                "evidence": evidence_sentence(p["context"], start),
            }
        )
    for row, (p, qa) in zip(out, asked):
        if twin := qa.get("paired_answerable_question"):
            row["paired"] = ids[(p["title"], p["para_index"], twin.strip())]
    return out


def write_collection(paragraphs: list[dict], asked, out: Path, name: str = "qa.jsonl") -> None:
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for p in paragraphs:
        (docs / doc_name(p)).write_text(p["context"], encoding="utf-8")
    with (out / name).open("w", encoding="utf-8") as f:
        for row in rows(asked, "train" if name == "qa.jsonl" else name.split(".")[0]):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def load_unanswerable(path: Path) -> dict[tuple[str, int], list[dict]]:
    """SQuAD 2.0's unanswerable questions by (title, paragraph index)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    return {
        (a["title"], p["para_index"]): p["qas"] for a in data for p in a["paragraphs"] if p["qas"]
    }


def calibration_titles(
    unanswerable: dict[tuple[str, int], list[dict]], articles: int, rng: random.Random
) -> set[str]:
    """The ``articles`` articles of the unanswerable questions kept apart for fitting refusals
    (``rng``: ``random.Random(seed + 1)``; train.train_verifier draws the same ones)."""
    titles = sorted({t for t, _ in unanswerable})
    return set(rng.sample(titles, min(articles, len(titles))))


def with_unanswerable(
    paragraphs: list[dict],
    kept: list[dict],
    asked: list,
    unanswerable: dict[tuple[str, int], list[dict]],
    questions: int,
    calibration_articles: int,
    seed: int,
):
    """(paragraphs, training questions, calibration paragraphs, calibration questions):
    ``kept`` and ``asked`` without the calibration articles, plus ``questions`` unanswerable
    questions drawn from the other articles, each with its answerable twin and paragraph."""
    rng = random.Random(seed + 1)
    by_key = {(p["title"], p["para_index"]): p for p in paragraphs}
    held = calibration_titles(unanswerable, calibration_articles, rng)
    # every paragraph of those articles: the refusals also learn from questions whose
    # paragraph is left out (fit_abstain leaves out paragraphs without unanswerable ones)
    calibration = [p for p in paragraphs if p["title"] in held]
    calibration_asked = [(p, qa) for p in calibration for qa in p["qas"]] + [
        (by_key[k], qa) for k in sorted(unanswerable) if k[0] in held for qa in unanswerable[k]
    ]
    pool = [(k, qa) for k in sorted(unanswerable) if k[0] not in held for qa in unanswerable[k]]
    drawn = rng.sample(pool, min(questions, len(pool)))
    kept = [p for p in kept if p["title"] not in held]
    asked = [(p, qa) for p, qa in asked if p["title"] not in held]
    have = {(p["title"], p["para_index"]) for p in kept}
    seen = {(p["title"], p["para_index"], qa["question"].strip()) for p, qa in asked}
    for k, qa in drawn:
        p = by_key[k]
        if k not in have:
            kept.append(p)
            have.add(k)
        twin = next(t for t in p["qas"] if t["question"].strip() == qa["paired_answerable_question"].strip())  # fmt: skip
        if (*k, twin["question"].strip()) not in seen:
            asked.append((p, twin))
            seen.add((*k, twin["question"].strip()))
        asked.append((p, qa))
    return kept, asked, calibration, calibration_asked


def append(out: Path, qa: Path, docs: Path) -> None:
    """Another collection's documents and questions added to ``out``'s as they are."""
    for doc in sorted(docs.iterdir()):
        if doc.is_file():
            shutil.copyfile(doc, out / "docs" / doc.name)
    with (out / "qa.jsonl").open("a", encoding="utf-8") as f:
        f.write(qa.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m train.squad_collection", description=__doc__.split("\n")[0]
    )
    parser.add_argument("source", type=Path, help="squad11_train_paragraphs.jsonl.gz")
    parser.add_argument(
        "--hold-out", type=Path, help="a SQuAD 2.0 file whose articles to leave out"
    )
    parser.add_argument("--paragraphs", type=int, default=12, help="paragraphs per article")
    parser.add_argument("--questions", type=int, default=9000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--unanswerable",
        type=Path,
        help="SQuAD 2.0 unanswerable questions with their answerable twins "
        "(squad20_train_unanswerable_unansq.json.gz)",
    )
    parser.add_argument(
        "--unanswerable-questions",
        type=int,
        default=6000,
        help="unanswerable questions to train on, each with its twin and paragraph",
    )
    parser.add_argument(
        "--calibration-articles",
        type=int,
        default=30,
        help="articles of --unanswerable kept apart for fitting refusals (calibration.jsonl)",
    )
    parser.add_argument(
        "--also",
        nargs=2,
        type=Path,
        metavar=("QA", "DOCS"),
        help="another collection to add as it is (e.g. dev13's qa.jsonl and docs/)",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for docs/ and qa.jsonl")
    args = parser.parse_args(argv)
    skip = held_out_titles(args.hold_out)
    with gzip.open(args.source, "rt", encoding="utf-8") as f:
        paragraphs = [p for p in map(json.loads, f) if p["title"] not in skip]
    kept, asked = sample(paragraphs, args.paragraphs, args.questions, args.seed)
    if args.unanswerable:
        unanswerable = {
            k: v for k, v in load_unanswerable(args.unanswerable).items() if k[0] not in skip
        }
        kept, asked, calibration, calibration_asked = with_unanswerable(
            paragraphs, kept, asked, unanswerable, args.unanswerable_questions,
            args.calibration_articles, args.seed,
        )  # fmt: skip
        write_collection(calibration, calibration_asked, args.out, "calibration.jsonl")
        print(
            f"calibration: {len(calibration)} paragraphs of {args.calibration_articles} articles, "
            f"{len(calibration_asked)} questions "
            f"({sum('answer' not in qa for _, qa in calibration_asked)} unanswerable)"
        )
    write_collection(kept, asked, args.out)
    if args.also:
        append(args.out, *args.also)
    articles = len({p["title"] for p in kept})
    print(
        f"wrote {len(kept)} paragraphs of {articles} articles and {len(asked)} questions "
        f"({sum('answer' not in qa for _, qa in asked)} unanswerable) to {args.out}"
        + (f", and {args.also[0]}'s" if args.also else "")
    )


if __name__ == "__main__":
    from qa.cli import run_cli

    run_cli(main)
