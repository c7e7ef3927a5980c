"""Writing a run's outputs: ``metrics.json``, ``predictions.jsonl``, ``report.md`` (tables
and the worst failures with what was retrieved) and ``report.png``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from eval.metrics import percentile
from eval.scoring import Scored, coverage_curve


def write_metrics(path: Path, metrics: dict) -> None:
    path.write_text(json.dumps(metrics, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_predictions(path: Path, scored: Sequence[Scored]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in scored)


def _fmt(value, percent: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{100 * value:.1f}" if percent else f"{value:.3f}"
    return str(value)


def _ms(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _type_rows(by_type: dict[str, dict]) -> list[list[str]]:
    rows = []
    for qtype, m in by_type.items():
        rows.append(
            [
                qtype,
                str(m["questions"]),
                str(m["answerable"]),
                _fmt(m["answer"]["em"], True),
                _fmt(m["answer"]["f1"], True),
                _fmt(m["retrieval"]["recall@1"]),
                _fmt(m["evidence"]["hit@1"]),
                _fmt(m["evidence"]["hit@k"]),
                _fmt(m["refusals"]["answerable_refused"]),
                _fmt(m["refusals"]["unanswerable_refused"]),
            ]
        )
    return rows


def badness(s: Scored) -> tuple:
    """Lowest F1 first; among equals, evidence missed before found, then the gold
    document ranked lowest (or not retrieved at all)."""
    return (s.f1, s.evidence_hitk, s.evidence_hit1, -(s.gold_rank or 1000))


def worst(scored: Sequence[Scored], n: int = 20) -> list[Scored]:
    return sorted((s for s in scored if s.f1 < 1.0 or s.error), key=badness)[:n]


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_section(s: Scored, number: int) -> list[str]:
    gold = " / ".join(f"“{a}”" for a in s.answers) if s.answers else "(unanswerable)"
    rank = f"rank {s.gold_rank}" if s.gold_rank else "not retrieved"
    lines = [
        f"### {number}. {_one_line(s.question)}",
        "",
        f"- id `{s.id}`, type {s.qtype}, F1 {100 * s.f1:.0f}",
        f"- gold: {gold} in `{s.doc}` ({rank})",
        f"- predicted: {'(refused)' if s.abstained else repr(s.prediction)}"
        + (f" — error: {s.error}" if s.error else ""),
    ]
    if s.evidence:
        lines.append(f"- gold evidence: {_one_line(s.evidence)}")
    for c in s.citations:
        mark = "supports" if c.supports else "does not support"
        lines.append(f"- cited [{c.n}] `{c.doc_id}` ({mark}): {_one_line(c.text)}")
    retrieved = list(dict.fromkeys(s.retrieved))
    if retrieved:
        lines.append("- retrieved: " + ", ".join(f"`{d}`" for d in retrieved))
    return lines + [""]


def render(metrics: dict, scored: Sequence[Scored], figure: str | None = None) -> str:
    run, m = metrics["run"], metrics["overall"]
    lines = [f"# Evaluation: {run['qa']}", ""]
    target = run.get("url") or f"in-process, index {run.get('index_dir')}"
    lines += [
        (
            f"{m['questions']} questions ({m['answerable']} answerable, {m['unanswerable']} "
            f"unanswerable) against {target}; top_k {run.get('top_k') or 'service default'}; "
            f"run {run['started']} (code {run.get('code') or 'unknown'}), "
            f"{m.get('wall_s', 0):.1f} s asking."
        ),
        "",
    ]
    if run.get("skipped_lines"):
        lines += [f"Skipped {len(run['skipped_lines'])} malformed line(s) of the Q&A file.", ""]
    if run.get("missing_docs"):
        lines += [
            f"Skipped {len(run['missing_docs'])} question(s) whose doc is not in the docs folder.",
            "",
        ]
    if run.get("made_unanswerable"):
        lines += [
            (
                f"Calibration: {run['made_unanswerable']} questions made unanswerable by "
                f"leaving {len(run['excluded_docs'])} paragraphs out (share "
                f"{run['unanswerable_share']}, seed {run['seed']})."
            ),
            "",
        ]
    a, r, e, c, ref, lat = (
        m["answer"],
        m["retrieval"],
        m["evidence"],
        m["citations"],
        m["refusals"],
        m["latency_ms"],
    )
    lines += ["## Overall", ""]
    lines += _table(
        ["metric", "value"],
        [
            ["answer EM % (answerable)", _fmt(a["em"], True)],
            ["answer F1 % (answerable)", _fmt(a["f1"], True)],
            [
                "answer EM / F1 % (all, refusal right when unanswerable)",
                f"{_fmt(a['with_refusals_em'], True)} / {_fmt(a['with_refusals_f1'], True)}",
            ],
            [
                "gold doc recall@1 / @5 / @10",
                f"{_fmt(r['recall@1'])} / {_fmt(r['recall@5'])} / {_fmt(r['recall@10'])}",
            ],
            ["gold doc MRR", _fmt(r["mrr"])],
            ["distinct docs returned (mean)", _fmt(r["docs_returned_mean"])],
            ["evidence hit@1 / hit@k", f"{_fmt(e['hit@1'])} / {_fmt(e['hit@k'])}"],
            ["citation precision", f"{_fmt(c['precision'])} of {c['count']}"],
            ["citations with bad offsets", f"{c['bad_offsets']} of {c['checked']} checked"],
            ["unanswerable refused", _fmt(ref["unanswerable_refused"])],
            ["answerable wrongly refused", _fmt(ref["answerable_refused"])],
            ["refusal ROC AUC (evidence score, answerable vs not)", _fmt(ref.get("auc"))],
            [
                "refusal ROC AUC within the articles holding unanswerable questions",
                _fmt(ref.get("auc_within_groups")),
            ],
            [
                "latency p50 / p95 / max ms",
                f"{_ms(lat['p50'])} / {_ms(lat['p95'])} / {_ms(lat['max'])}",
            ],
            ["questions per second", _ms(m.get("qps"))],
            ["errors", str(m["errors"])],
        ],
    )
    lines += ["", "## By question type", ""]
    lines += _table(
        [
            "type",
            "questions",
            "answerable",
            "EM %",
            "F1 %",
            "recall@1",
            "evidence hit@1",
            "evidence hit@k",
            "answerable refused",
            "unanswerable refused",
        ],
        _type_rows(metrics["by_type"]),
    )
    if figure:
        lines += ["", f"![latency, F1 by type, answered vs F1]({figure})"]
    failures = worst(scored)
    lines += ["", f"## The {len(failures)} worst failures", ""]
    for n, s in enumerate(failures, start=1):
        lines += failure_section(s, n)
    return "\n".join(lines) + "\n"


def plot(path: Path, metrics: dict, scored: Sequence[Scored]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latencies = [s.latency_ms for s in scored if s.error is None]
    by_type = metrics["by_type"]
    fig, (left, right, curve_ax) = plt.subplots(1, 3, figsize=(16, 4))
    # one slow outlier (a first call, a busy core) would squash the rest into one bar
    upper = 1.5 * percentile(latencies, 99) if latencies else 1.0
    slower = sum(v > upper for v in latencies)
    left.hist(latencies, bins=40, range=(0, upper), color="#4477aa")
    if slower:
        left.annotate(
            f"{slower} slower than {upper:.0f} ms not shown",
            (0.98, 0.6),
            xycoords="axes fraction",
            ha="right",
            fontsize=8,
        )
    for q, style in (("p50", "--"), ("p95", ":")):
        value = metrics["overall"]["latency_ms"][q]
        if value is not None:
            left.axvline(value, color="black", linestyle=style, label=f"{q} {value:.0f} ms")
    left.set(title="latency per question", xlabel="ms", ylabel="questions")
    left.legend()
    types = [t for t, m in by_type.items() if m["answer"]["f1"] is not None]
    f1s = [100 * by_type[t]["answer"]["f1"] for t in types]
    bars = right.bar(types, f1s, color="#66aa55")
    for bar, t in zip(bars, types):
        right.annotate(
            f"n={by_type[t]['answerable']}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    right.set(title="answer F1 by question type", ylabel="F1 %", ylim=(0, 100))
    right.tick_params(axis="x", rotation=30)
    plot_coverage(curve_ax, metrics, scored)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_coverage(ax, metrics: dict, scored: Sequence[Scored]) -> None:
    """Share of questions answered against the F1 of those answered, as the abstention
    threshold rises from the run's own (the run itself is the rightmost point)."""
    curve = coverage_curve(scored)
    auc = metrics["overall"]["refusals"].get("auc")
    title = "answered vs F1 of the answered"
    if auc is not None:
        title += f" (refusal AUC {auc:.3f})"
    ax.set(title=title, xlabel="share of questions answered", ylabel="F1 % of the answered")
    if not curve:
        ax.text(0.5, 0.5, "no evidence scores", ha="center", transform=ax.transAxes)
        return
    coverage = [c for _, c, _ in curve]
    f1s = [100 * f for _, _, f in curve]
    ax.plot(coverage, f1s, color="#aa3377")
    ax.scatter([coverage[-1]], [f1s[-1]], color="black", zorder=3, label="this run")
    ax.set(xlim=(0, 1), ylim=(0, 100))
    ax.legend(loc="lower left")


def write_outputs(out: Path, metrics: dict, scored: Sequence[Scored]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "metrics": out / "metrics.json",
        "predictions": out / "predictions.jsonl",
        "report": out / "report.md",
        "figure": out / "report.png",
    }
    write_metrics(paths["metrics"], metrics)
    write_predictions(paths["predictions"], scored)
    plot(paths["figure"], metrics, scored)
    paths["report"].write_text(render(metrics, scored, paths["figure"].name), encoding="utf-8")
    return paths
