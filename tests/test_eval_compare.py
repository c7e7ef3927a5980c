"""`--compare A B`: deltas between two runs' metrics.json."""

import json

import pytest

from eval.compare import format_comparison, rows
from eval.errors import EvalError


def metrics(f1, p50, by_type_f1):
    return {
        "overall": {"answer": {"f1": f1}, "latency_ms": {"p50": p50}, "questions": 10},
        "by_type": {"who": {"answer": {"f1": by_type_f1}}},
    }


def test_rows_give_deltas_and_direction():
    table = {r[0]: r for r in rows(metrics(0.40, 30.0, 0.5), metrics(0.45, 36.0, 0.25))}
    _, a, b, delta, verdict = table["answer F1"]
    assert (a, b, verdict) == (0.40, 0.45, "better") and delta == pytest.approx(0.05)
    assert table["latency p50 ms"][3:] == (6.0, "worse")
    assert table["F1 who"][3:] == (-0.25, "worse")
    assert table["questions"][3:] == (0, "")
    assert "recall@1" not in table  # in neither run


def test_format_comparison_reads_folders(tmp_path):
    for name, f1 in (("a", 0.4), ("b", 0.5)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps(metrics(f1, 30.0, 0.5)))
    text = format_comparison(tmp_path / "a", tmp_path / "b")
    line = next(x for x in text.splitlines() if x.startswith("answer F1"))
    assert line.split()[-2:] == ["+0.100", "better"]
    with pytest.raises(EvalError, match="no metrics.json"):
        format_comparison(tmp_path / "a", tmp_path / "missing")
