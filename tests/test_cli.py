"""The `qa` command, run as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from qa.settings import Settings
from tests.conftest import SEEDS

QA = [sys.executable, "-m", "qa"]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*QA, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_index_then_ask_as_json(tmp_path):
    index_dir, graphs = tmp_path / "ix", {"QA_ONNX_DIR": str(tmp_path / "onnx")}
    r = run("index", str(SEEDS), "--index-dir", str(index_dir), env=graphs)
    assert r.returncode == 0, r.stderr
    assert "indexed 1 documents" in r.stdout
    # `qa index` exported both encoders for the server (which then needs no torch), in the
    # runtime QA_ENCODER_RUNTIME=auto picks here (int8: both smoothed by their recipes)
    names = sorted(p.name for p in (tmp_path / "onnx").iterdir())
    if Settings().runtime == "int8":
        assert [n.rsplit("-", 1)[0] for n in names] == [
            "cross-smoothed-int8",
            "minilm-smoothed-int8",
        ]
    else:
        assert [n.split("-")[0] for n in names] == ["cross", "minilm"]
    r = run(
        "ask",
        "How many troops were shipped?",
        "--json",
        env={"QA_INDEX_DIR": str(index_dir), **graphs},
    )
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert "1,500" in body["answer"]
    text = (SEEDS / "north-korea-troops-russia.txt").read_text(encoding="utf-8")
    assert all(text[c["start"] : c["end"]] == c["text"] for c in body["citations"])


def test_errors_are_one_line_and_a_non_zero_exit(tmp_path):
    r = run("ask", "Anything?", "--index-dir", str(tmp_path / "none"))
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "qa index" in r.stderr
    r = run("index", str(tmp_path / "missing-folder"), "--index-dir", str(tmp_path / "ix"))
    assert r.returncode == 1
    assert r.stderr.strip() == f"error: no such file or folder: {tmp_path / 'missing-folder'}"
    assert not Path(tmp_path / "ix").exists()


def test_training_and_fit_scripts_fail_in_one_line(tmp_path):
    missing = str(tmp_path / "missing.jsonl")
    for script in ("train.train_cross", "train.fit_reader"):
        args = ["--qa", missing, "--out", str(tmp_path / "out")]
        if script == "train.train_cross":
            args += ["--docs", str(SEEDS), "--index-dir", str(tmp_path / "index")]
        done = subprocess.run(
            [sys.executable, "-m", script, *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 1
        assert done.stderr.strip() == f"error: no Q&A file at {missing}"
    bad = subprocess.run(
        [sys.executable, "-m", "train.train_cross", "--qa", missing, "--docs", str(SEEDS),
         "--index-dir", str(tmp_path / "index"), "--out", str(tmp_path / "out"), "--train-gap", "-1"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "--train-gap: must be 0 or more" in bad.stderr
    assert not (tmp_path / "index").exists()
    # a refusal threshold is asked for as a share of the answerable questions, nothing written
    bad = subprocess.run(
        [sys.executable, "-m", "train.fit_abstain", "--qa", missing, "--docs", str(SEEDS),
         "--index-dir", str(tmp_path / "index"), "--answerable-refused", "5",
         "--out", str(tmp_path / "abstain.json")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "--answerable-refused must be between 0 and 1" in bad.stderr
    assert not (tmp_path / "abstain.json").exists() and not (tmp_path / "index").exists()
    # where the weights go is always said: never the installed package by default
    for script in (
        "train.train_cross",
        "train.fit_reader",
        "train.fit_evidence",
        "train.fit_abstain",
    ):
        done = subprocess.run(
            [sys.executable, "-m", script, "--qa", missing],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 2 and "--out" in done.stderr, script


def test_top_k_out_of_range_is_refused_not_changed(seed_index_dir):
    for bad, says in (("0", "greater than"), ("-2", "greater than"), ("51", "less than")):
        r = run("ask", "Who leads NATO?", "--top-k", bad, "--index-dir", str(seed_index_dir))
        assert r.returncode == 2, (bad, r.stdout)
        assert "--top-k" in r.stderr and says in r.stderr


def test_qa_index_embeds_in_int8_without_importing_torch(tmp_path, graphs):
    # int8, as QA_INDEX_RUNTIME=auto picks on a CPU with AVX2 or VNNI: once the graphs are
    # exported, `qa index` never imports torch (4 s and 300 MiB a run otherwise)
    code = (
        "import sys\n"
        "from qa.cli import main\n"
        "try:\n    main()\n"
        "finally:\n    print('torch' in sys.modules, file=sys.stderr)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, "index", str(SEEDS), "--index-dir", str(tmp_path / "ix")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "QA_INDEX_RUNTIME": "int8", "QA_ONNX_DIR": str(graphs)},
    )
    assert r.returncode == 0, r.stderr
    assert "indexed 1 documents" in r.stdout
    assert r.stderr.strip().splitlines()[-1] == "False"
