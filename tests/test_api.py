"""The HTTP API against a real uvicorn server on loopback, with the real model and index."""

import httpx
import pytest

from index.cpu import BF16, flags
from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import SEED_FILE, running


def test_troops_question_is_answered_with_an_exact_citation(client):
    r = client.post("/ask", json={"question": "How many troops were shipped?"})
    assert r.status_code == 200
    body = r.json()
    assert body["abstained"] is False
    assert "1,500" in body["answer"]
    document = SEED_FILE.read_text(encoding="utf-8")
    cited = [c for c in body["citations"] if "1,500 special forces troops" in c["text"]]
    assert cited, body["citations"]
    listed = {d["id"]: d["title"] for d in client.get("/documents").json()}
    for c in body["citations"]:
        assert c["doc_id"] == "north-korea-troops-russia.txt"
        assert c["title"] == listed[c["doc_id"]]
        assert document[c["start"] : c["end"]] == c["text"]
    assert body["answer"] in body["citations"][0]["text"]
    assert "[1]" in body["text"]
    assert body["passages"] and set(body["timings_ms"]) >= {"retrieve", "total"}


def test_question_the_article_does_not_answer_abstains(client):
    r = client.post("/ask", json={"question": "What is the population of Vladivostok?"})
    body = r.json()
    assert r.status_code == 200
    assert body["abstained"] is True
    assert body["answer"] is None and body["citations"] == []
    assert "do not answer" in body["text"]
    assert body["passages"]  # what it looked at is still shown


def test_top_k_is_honoured(client):
    r = client.post("/ask", json={"question": "Who leads NATO?", "top_k": 2})
    assert len(r.json()["passages"]) == 2


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"question": ""}, "question is empty"),
        ({"question": "   \n\t"}, "question is empty"),
        ({"question": "x" * 2001}, "at most 2000"),
        ({}, "Field required"),
        ({"question": 42}, "valid string"),
        ({"question": "Who?", "extra": 1}, "Extra inputs are not permitted"),
        ({"question": "Who?", "top_k": 0}, "greater than or equal to 1"),
        ({"question": "Who?", "top_k": 1000}, "less than or equal to 50"),
    ],
)
def test_bad_questions_are_422_with_a_message(client, payload, fragment):
    r = client.post("/ask", json=payload)
    assert r.status_code == 422
    assert fragment in r.text


def test_malformed_json_is_422(client):
    r = client.post(
        "/ask", content=b'{"question": "Who', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert "JSON" in r.text


def test_health_and_documents(client):
    health = client.get("/health").json()
    assert health["ready"] is True and health["model"] == "all-MiniLM-L6-v2"
    assert health["documents"] == 1 and health["sentences"] >= 20 and health["store"] == "faiss"
    assert health["answerer"] == "extractive" and health["reranker"].endswith("models/cross")
    # the refusal threshold in use: the refusal model's own unless QA_ABSTAIN_BELOW is set
    assert 0.0 < health["refuses_below"] < 1.0
    assert health["verifier"] is True  # the shipped refusals weigh the verifier
    # it ships its own int8 recipe, so it runs as the reader does
    assert health["verifier_runtime"] == health["encoders"]["runtime"]
    # what runs the encoders here, chosen from this CPU (QA_ENCODER_RUNTIME=auto)
    encoders = health["encoders"]
    assert encoders["setting"] == "auto" and encoders["runtime"] in ("int8", "onnx")
    assert encoders["why"] and "cores (" in encoders["cpu"]
    # and what embeds documents: qa index's runtime for this CPU, and the server's uploads
    # (its question embedder: this server was handed the tests' torch one)
    documents = health["documents_embedded_by"]
    assert documents["setting"] == "auto" and documents["why"]
    # (x86 here: int8 with AVX2 or VNNI, the embedder's recipe shipped)
    int8 = {"avx2", "avx_vnni", "avx512_vnni"} & flags()
    assert documents["runtime"] == ("int8" if int8 else "torch" if BF16 & flags() else "onnx")
    assert documents["uploads"] == "torch"
    [doc] = client.get("/documents").json()
    assert doc["id"] == "north-korea-troops-russia.txt"
    assert doc["characters"] == len(SEED_FILE.read_text(encoding="utf-8"))
    assert doc["sentences"] == health["sentences"]


def test_without_an_index_ask_is_503_saying_how_to_build_one(tmp_path, embedder):
    app = create_app(Settings(index_dir=tmp_path / "none"), embedder=embedder)
    with running(app) as url:
        r = httpx.post(f"{url}/ask", json={"question": "Anything?"}, timeout=30)
        assert r.status_code == 503
        assert "qa index" in r.json()["detail"]
        assert httpx.get(f"{url}/health").json()["ready"] is False
        assert httpx.get(f"{url}/documents").status_code == 503
