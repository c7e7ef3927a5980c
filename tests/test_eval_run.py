"""End-to-end evaluation runs over a few seed questions: in-process with the real model,
over HTTP against the seed server, and the failure paths a user meets."""

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from eval.errors import EvalError, ServiceUnreachable
from eval.run import RunConfig, evaluate
from index.embed import HashEmbedder
from index.stores.segments import SegmentStore
from qa.settings import Settings
from tests.conftest import ROOT, SEEDS, free_port

SEED_QA = ROOT / "eval" / "seed_qa.jsonl"


FOLLOWUP = "seed-f04"


def seed_rows(n_answerable: int = 4, n_unanswerable: int = 2, n_followups: int = 1) -> list[dict]:
    rows = [json.loads(line) for line in SEED_QA.read_text(encoding="utf-8").splitlines()]
    alone = [r for r in rows if not r.get("history")]
    answerable = [r for r in alone if r["answers"]][:n_answerable]
    # "and what did he say?" after "Who is NATO's chief?" first
    followups = sorted((r for r in rows if r.get("history")), key=lambda r: r["id"] != FOLLOWUP)
    followups = followups[:n_followups]
    return answerable + [r for r in alone if not r["answers"]][:n_unanswerable] + followups


def write_qa(path: Path, rows: list[dict], extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def predictions(out: Path) -> dict[str, dict]:
    lines = (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


def test_seed_qa_file_is_well_formed():
    text = (SEEDS / "north-korea-troops-russia.txt").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in SEED_QA.read_text(encoding="utf-8").splitlines()]
    answerable = [r for r in rows if r["answers"]]
    assert len(answerable) >= 25 and len(rows) - len(answerable) >= 5
    assert len({r["id"] for r in rows}) == len(rows)
    for r in answerable:
        assert r["doc"] == "north-korea-troops-russia.txt"
        assert r["evidence"] in text
        assert all(a in r["evidence"] for a in r["answers"][:1]), r["id"]
        assert all(a in text for a in r["answers"]), r["id"]


@pytest.fixture(scope="module")
def in_process_run(tmp_path_factory, embedder):
    tmp = tmp_path_factory.mktemp("eval-in-process")
    rows = seed_rows()
    qa = write_qa(tmp / "qa.jsonl", rows, ("{broken",))
    config = RunConfig(qa=qa, out=tmp / "out", docs=SEEDS, progress=False)
    outcome = evaluate(config, Settings(), embedder=embedder)
    return config, rows, outcome


def test_in_process_run_writes_every_output(in_process_run):
    config, rows, outcome = in_process_run
    out = config.out
    assert {p.name for p in outcome.paths.values()} == {
        "metrics.json",
        "predictions.jsonl",
        "report.md",
        "report.png",
    }
    assert json.loads((out / "metrics.json").read_text()) == outcome.metrics
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    preds = predictions(out)
    assert list(preds) == [r["id"] for r in rows]
    m = outcome.metrics["overall"]
    n_unanswerable = sum(not r["answers"] for r in rows)
    assert (m["questions"], m["unanswerable"]) == (len(rows), n_unanswerable)
    assert outcome.metrics["run"]["skipped_lines"][0].startswith(f"qa.jsonl line {len(rows) + 1}:")
    # the figures say at which refusal threshold they were measured, as /health does
    assert 0.0 < outcome.metrics["run"]["refuses_below"] < 1.0
    assert outcome.metrics["run"]["reranker"].endswith("models/cross")
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Overall" in report and "## By question type" in report
    for qtype in outcome.metrics["by_type"]:
        assert f"| {qtype} |" in report


def test_in_process_figures_agree_with_the_predictions(in_process_run):
    config, _, outcome = in_process_run
    preds = predictions(config.out).values()
    m = outcome.metrics["overall"]
    answerable = [p for p in preds if p["answers"]]
    unanswerable = [p for p in preds if not p["answers"]]
    # metrics.json keeps four decimals
    mean_f1 = sum(p["f1"] for p in answerable) / len(answerable)
    assert m["answer"]["f1"] == pytest.approx(mean_f1, abs=5e-5)
    refused = sum(p["abstained"] for p in unanswerable) / len(unanswerable)
    assert m["refusals"]["unanswerable_refused"] == pytest.approx(refused, abs=5e-5)
    # every prediction carries the service's evidence score, and the AUC is computed from them
    assert all(0.0 <= p["evidence_score"] <= 1.0 for p in preds)
    assert 0.0 <= m["refusals"]["auc"] <= 1.0
    citations = [c for p in preds for c in p["citations"]]
    # every citation is checked against the seed file, and none may be off
    assert m["citations"]["checked"] == len(citations)
    assert m["citations"]["bad_offsets"] == 0
    # one document in the collection: whenever anything is retrieved it is the gold one
    assert m["retrieval"]["recall@1"] == pytest.approx(
        sum(bool(p["retrieved"]) for p in answerable) / len(answerable), abs=5e-5
    )
    assert all(p["latency_ms"] > 0 for p in preds) and m["qps"] > 0


def test_a_second_run_reuses_the_index(in_process_run, embedder):
    config, _, first = in_process_run
    assert first.metrics["run"]["index_reused"] is False
    again = evaluate(config, Settings(), embedder=embedder)
    assert again.metrics["run"]["index_reused"] is True
    assert predictions(config.out).keys() == {r["id"] for r in in_process_run[1]}


def test_a_followup_is_asked_with_the_turns_before_it(in_process_run):
    config, rows, _ = in_process_run
    (followup,) = [r for r in rows if r.get("history")]
    row = predictions(config.out)[followup["id"]]
    # "and what did he say?" alone names nobody; completed with the turn before ("Who is
    # NATO's chief?" Mark Rutte) it cites his sentence
    assert not row["abstained"]
    assert any(followup["evidence"] in c["text"] for c in row["citations"])


def test_http_run_sees_what_the_in_process_run_sees(in_process_run, seed_server, tmp_path):
    config, rows, _ = in_process_run
    qa = write_qa(tmp_path / "qa.jsonl", rows)
    out = tmp_path / "http"
    outcome = evaluate(
        RunConfig(qa=qa, out=out, url=seed_server, docs=SEEDS, progress=False), Settings()
    )
    assert outcome.metrics["run"]["service"]["ready"] is True
    assert outcome.metrics["overall"]["errors"] == 0
    local, remote = predictions(config.out), predictions(out)
    for qid, row in remote.items():
        assert (row["prediction"], row["abstained"]) == (
            local[qid]["prediction"],
            local[qid]["abstained"],
        )
        assert [c["start"] for c in row["citations"]] == [
            c["start"] for c in local[qid]["citations"]
        ]


def test_http_errors_on_single_questions_are_recorded_not_fatal(tmp_path):
    rows = seed_rows(2, 0, 0)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200, json={"ready": True})
        question = json.loads(request.content)["question"]
        if question == rows[0]["question"]:
            return httpx.Response(500, json={"detail": "boom"})
        body = {
            "answer": rows[1]["answers"][0],
            "abstained": False,
            "text": "",
            "citations": [],
            "passages": [],
        }
        return httpx.Response(200, json=body)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    config = RunConfig(
        qa=write_qa(tmp_path / "qa.jsonl", rows),
        out=tmp_path / "o",
        url="http://svc",
        progress=False,
    )
    outcome = evaluate(config, Settings(), client=client)
    preds = predictions(config.out)
    assert preds[rows[0]["id"]]["error"] == "HTTP 500: boom"
    assert preds[rows[1]["id"]]["em"] == 1.0
    assert outcome.metrics["overall"]["errors"] == 1
    assert outcome.metrics["overall"]["citations"]["checked"] == 0  # no --docs to check against


def test_a_service_without_an_index_is_refused_up_front(tmp_path):
    client = httpx.Client(
        transport=httpx.MockTransport(
            lambda request: httpx.Response(200, json={"ready": False, "error": "no index at x"})
        )
    )
    config = RunConfig(
        qa=write_qa(tmp_path / "qa.jsonl", seed_rows(1, 0)), out=tmp_path / "o", url="http://svc"
    )
    with pytest.raises(ServiceUnreachable, match="no index at x"):
        evaluate(config, Settings(), client=client)


def test_unreachable_url_is_one_line_and_a_non_zero_exit(tmp_path):
    qa = write_qa(tmp_path / "qa.jsonl", seed_rows(1, 0))
    url = f"http://127.0.0.1:{free_port()}"
    r = subprocess.run(
        [sys.executable, "-m", "eval", "--qa", str(qa), "--url", url, "--out", str(tmp_path / "o")],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0
    assert r.stderr.startswith(f"error: cannot reach the service at {url}")
    assert not (tmp_path / "o").exists()


def test_questions_about_unknown_docs_are_reported(tmp_path):
    rows = seed_rows(2, 0, 0)
    rows[1] = {**rows[1], "doc": "not-there.txt"}
    qa = write_qa(tmp_path / "qa.jsonl", rows)
    settings = Settings()
    with pytest.raises(EvalError, match=r"1 question\(s\) name a doc .*not-there.txt"):
        evaluate(RunConfig(qa=qa, out=tmp_path / "o", docs=SEEDS, strict=True), settings)
    outcome = evaluate(
        RunConfig(qa=qa, out=tmp_path / "o", docs=SEEDS, progress=False),
        settings,
        embedder=HashEmbedder(),
    )
    assert outcome.metrics["run"]["missing_docs"] == [{"id": rows[1]["id"], "doc": "not-there.txt"}]
    assert outcome.metrics["overall"]["questions"] == 1


def test_unanswerable_share_indexes_a_collection_without_the_chosen_paragraphs(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    facts = {
        "zanzibar.txt": (
            "Zanzibar is an island off Tanzania. Its old quarter is Stone Town.",
            "Stone Town",
        ),
        "kilimanjaro.txt": ("Kilimanjaro rises 5,895 metres in Tanzania.", "5,895 metres"),
        "serengeti.txt": (
            "The Serengeti hosts the great wildebeest migration.",
            "wildebeest migration",
        ),
        "dodoma.txt": ("Dodoma became the capital of Tanzania in 1996.", "1996"),
    }
    rows = []
    for n, (name, (text, answer)) in enumerate(facts.items()):
        (docs / name).write_text(text + "\n", encoding="utf-8")
        rows.append(
            {
                "id": f"q{n}",
                "question": f"What about {name[:-4]}?",
                "answers": [answer],
                "doc": name,
                "evidence": text,
            }
        )
    qa = write_qa(tmp_path / "qa.jsonl", rows)
    config = RunConfig(
        qa=qa, out=tmp_path / "o", docs=docs, unanswerable_share=0.25, seed=1, progress=False
    )
    outcome = evaluate(config, Settings(), embedder=HashEmbedder())
    run = outcome.metrics["run"]
    excluded = set(run["excluded_docs"])
    assert len(excluded) == 1 and run["made_unanswerable"] == 1
    assert outcome.metrics["overall"]["unanswerable"] == 1
    index_dir = Path(run["index_dir"])
    assert index_dir != config.out / "index"
    assert {d.doc_id for d in SegmentStore(index_dir).documents()} == set(facts) - excluded
    preds = predictions(config.out)
    assert [p["doc"] for p in preds.values() if not p["answers"]] == list(excluded)
    assert all(doc not in excluded for p in preds.values() for doc in p["retrieved"])
