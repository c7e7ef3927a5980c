"""A SQuAD 2.0 file (the official JSON) as an eval collection: one document per paragraph and
the Q&A set in the eval format, unanswerable questions with ``answers: []``.

    python -m eval.squad2 ../shared/data/squad20-train-first10/train-v2.0-first10articles.json --out runs/squad20
    python -m eval --qa runs/squad20/qa.jsonl --docs runs/squad20/docs --out runs/squad20-eval

Documents are named ``Title__p000.txt`` as in squad11-dev13, so a split by article works
the same way. The evidence of an answerable question is the sentence (as the index splits
it) that holds its first answer."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

from eval.errors import BadQAFile
from index.split import split_sentences


def evidence_sentence(context: str, start: int) -> str:
    for span in split_sentences(context):
        if span.start <= start < span.end:
            return context[span.start : span.end]
    return ""


def convert(data: dict) -> Iterator[tuple[str, str, list[dict]]]:
    """(document name, paragraph text, its questions in the eval format) per paragraph."""
    for article in data["data"]:
        title = article["title"]
        for p, paragraph in enumerate(article["paragraphs"]):
            name = f"{title}__p{p:03d}.txt"
            context = paragraph["context"]
            rows = []
            for qa in paragraph["qas"]:
                answers = [] if qa.get("is_impossible") else qa["answers"]
                rows.append(
                    {
                        "id": qa["id"],
                        "question": qa["question"],
                        "answers": list(dict.fromkeys(a["text"] for a in answers)),
                        "doc": name,
                        "evidence": evidence_sentence(context, answers[0]["answer_start"])
                        if answers
                        else "",
                    }
                )
            yield name, context, rows


def write_collection(source: Path, out: Path) -> tuple[int, int, int]:
    """Write ``out/docs/*.txt`` and ``out/qa.jsonl``; return (documents, questions,
    unanswerable)."""
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        paragraphs = list(convert(data))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BadQAFile(f"{source} is not a SQuAD 2.0 file: {exc}") from exc
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    questions = unanswerable = 0
    with (out / "qa.jsonl").open("w", encoding="utf-8") as qa_file:
        for name, context, rows in paragraphs:
            (docs / name).write_text(context, encoding="utf-8")
            for row in rows:
                qa_file.write(json.dumps(row, ensure_ascii=False) + "\n")
                questions += 1
                unanswerable += not row["answers"]
    return len(paragraphs), questions, unanswerable


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m eval.squad2", description=__doc__.split("\n")[0]
    )
    parser.add_argument("source", type=Path, help="a SQuAD 2.0 JSON file")
    parser.add_argument("--out", type=Path, required=True, help="folder for docs/ and qa.jsonl")
    args = parser.parse_args()
    if not args.source.is_file():
        raise BadQAFile(f"no such file: {args.source}")
    documents, questions, unanswerable = write_collection(args.source, args.out)
    print(
        f"wrote {documents} documents and {questions} questions ({unanswerable} unanswerable) "
        f"to {args.out}"
    )


if __name__ == "__main__":
    from qa.cli import run_cli

    run_cli(main)
