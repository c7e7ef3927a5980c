"""``--compare A B``: two runs' figures side by side with their differences."""

from __future__ import annotations

import json
from pathlib import Path

from eval.errors import EvalError

# (label, path in metrics.json, whether higher is better)
ROWS = [
    ("answer EM", ("overall", "answer", "em"), True),
    ("answer F1", ("overall", "answer", "f1"), True),
    ("EM with refusals", ("overall", "answer", "with_refusals_em"), True),
    ("F1 with refusals", ("overall", "answer", "with_refusals_f1"), True),
    ("recall@1", ("overall", "retrieval", "recall@1"), True),
    ("recall@5", ("overall", "retrieval", "recall@5"), True),
    ("recall@10", ("overall", "retrieval", "recall@10"), True),
    ("MRR", ("overall", "retrieval", "mrr"), True),
    ("evidence hit@1", ("overall", "evidence", "hit@1"), True),
    ("evidence hit@k", ("overall", "evidence", "hit@k"), True),
    ("citation precision", ("overall", "citations", "precision"), True),
    ("bad citation offsets", ("overall", "citations", "bad_offsets"), False),
    ("unanswerable refused", ("overall", "refusals", "unanswerable_refused"), True),
    ("answerable refused", ("overall", "refusals", "answerable_refused"), False),
    ("refusal AUC", ("overall", "refusals", "auc"), True),
    ("refusal AUC within articles", ("overall", "refusals", "auc_within_groups"), True),
    ("latency p50 ms", ("overall", "latency_ms", "p50"), False),
    ("latency p95 ms", ("overall", "latency_ms", "p95"), False),
    ("latency max ms", ("overall", "latency_ms", "max"), False),
    ("questions/s", ("overall", "qps"), True),
    ("questions", ("overall", "questions"), None),
    ("errors", ("overall", "errors"), False),
]


def load_metrics(path: Path) -> dict:
    file = path / "metrics.json" if path.is_dir() else path
    if not file.is_file():
        raise EvalError(f"no metrics.json at {path}: run `python -m eval ... --out {path}` first")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise EvalError(f"{file} is not valid JSON ({exc})") from None


def _get(metrics: dict, keys: tuple[str, ...]):
    for key in keys:
        if not isinstance(metrics, dict) or key not in metrics:
            return None
        metrics = metrics[key]
    return metrics


def rows(a: dict, b: dict) -> list[tuple[str, object, object, float | None, str]]:
    """(label, A, B, B - A, verdict) for every figure present in either run, then F1 by
    question type; the verdict is "better"/"worse" where a direction makes sense."""
    out = []
    table = list(ROWS) + [
        (f"F1 {t}", ("by_type", t, "answer", "f1"), True)
        for t in dict.fromkeys([*a.get("by_type", {}), *b.get("by_type", {})])
    ]
    for label, keys, higher_better in table:
        va, vb = _get(a, keys), _get(b, keys)
        if va is None and vb is None:
            continue
        delta = vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
        verdict = ""
        if delta and higher_better is not None:
            verdict = "better" if (delta > 0) == higher_better else "worse"
        out.append((label, va, vb, delta, verdict))
    return out


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def format_comparison(path_a: Path, path_b: Path) -> str:
    a, b = load_metrics(path_a), load_metrics(path_b)
    table = [("metric", str(path_a), str(path_b), "delta", "")]
    for label, va, vb, delta, verdict in rows(a, b):
        sign = "" if delta is None else ("+" if delta > 0 else "")
        table.append((label, _cell(va), _cell(vb), sign + _cell(delta), verdict))
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths))
        ).rstrip()
        for r in table
    )
