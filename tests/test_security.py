"""Access rules over HTTP (qa/http/security.py, qa/http/keys.py, qa/http/throttle.py),
against real uvicorn servers on loopback with the real model and copies of the seed index:
keys, the Host allow-list, same-origin writes, rate limits, security headers, and
`qa serve`'s refusal to listen on a public address without keys."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import qa.http.keys
from qa.errors import AccessDenied, KeyFileError
from qa.http.api import create_app
from qa.http.keys import KeyRing
from qa.http.security import refuse_open_server, same_place
from qa.settings import Settings
from tests.conftest import SEED_FILE, running
from tests.test_cli import run

SEED_ID = SEED_FILE.name
NOTE = b"The harbour of Gull Rock closes at dusk."
TROOPS = {"question": "How many troops were shipped?"}
CLIENT = {"X-Requested-With": "tests"}  # what an API client sends with its changes


@contextmanager
def serve(index_dir: Path, embedder, **settings) -> Iterator[str]:
    with running(create_app(Settings(index_dir=index_dir, **settings), embedder=embedder)) as url:
        yield url


def upload(url: str, name: str = "note.txt", headers: dict | None = None) -> httpx.Response:
    return httpx.post(
        f"{url}/documents", files={"file": (name, NOTE)}, headers=headers or {}, timeout=60
    )


def listed(url: str, headers: dict | None = None) -> dict[str, dict]:
    r = httpx.get(f"{url}/documents", headers=headers or {}, timeout=30)
    assert r.status_code == 200, r.text
    return {d["id"]: d for d in r.json()}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_without_keys_a_change_needs_a_header_no_form_can_send(fresh_seed_index, embedder):
    with serve(fresh_seed_index, embedder) as url:
        r = upload(url)  # what a form or a no-cors fetch from any page sends
        assert r.status_code == 403 and "X-Requested-With" in r.json()["detail"]
        r = httpx.delete(f"{url}/documents/{SEED_ID}", timeout=30)
        assert r.status_code == 403
        assert list(listed(url)) == [SEED_ID]

        assert upload(url, headers=CLIENT).status_code == 201
        note = listed(url)["note.txt"]
        assert note["added_by"] == "http" and note["added_at"].endswith("Z")
        # questions and reads need nothing
        assert httpx.post(f"{url}/ask", json=TROOPS, timeout=30).status_code == 200


def test_a_page_of_another_origin_may_not_write(fresh_seed_index, embedder):
    allowed = "https://wiki.example.org"
    with serve(fresh_seed_index, embedder, allowed_origins=allowed) as url:
        for origin in ("http://127.0.0.1:9", "http://localhost:8000", "null"):
            r = upload(url, headers={**CLIENT, "Origin": origin})
            assert r.status_code == 403, origin
            assert "QA_ALLOWED_ORIGINS" in r.json()["detail"]
        assert list(listed(url)) == [SEED_ID]
        assert upload(url, "own.txt", {**CLIENT, "Origin": url}).status_code == 201
        assert upload(url, "wiki.txt", {**CLIENT, "Origin": allowed}).status_code == 201
        assert set(listed(url)) == {SEED_ID, "own.txt", "wiki.txt"}


def test_keys_guard_changes_and_name_who_made_them(fresh_seed_index, embedder):
    keys = "alpha-4c1d9e-key,beta-77f0aa-key"
    with serve(fresh_seed_index, embedder, api_keys=keys) as url:
        r = upload(url, headers=CLIENT)
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in r.json()["detail"]
        r = upload(url, headers=bearer("alpha-4c1d9e-kez"))
        assert r.status_code == 403 and "not valid" in r.json()["detail"]
        assert upload(url, headers={"Authorization": "Basic YWxwaGE="}).status_code == 401
        r = httpx.delete(f"{url}/documents/{SEED_ID}", headers=CLIENT, timeout=30)
        assert r.status_code == 401
        assert list(listed(url)) == [SEED_ID]

        # a key is a header no other site's form can send: it needs nothing more
        assert upload(url, headers=bearer("beta-77f0aa-key")).status_code == 201
        assert listed(url)["note.txt"]["added_by"] == "key2"
        # reads stay open unless QA_KEYS_FOR_READS
        assert httpx.post(f"{url}/ask", json=TROOPS, timeout=30).status_code == 200
        r = httpx.delete(f"{url}/documents/note.txt", headers=bearer("alpha-4c1d9e-key"))
        assert r.status_code == 200


def test_keys_for_reads_guard_questions_and_documents_too(fresh_seed_index, embedder):
    with serve(fresh_seed_index, embedder, api_keys="reader-key-0001", keys_for_reads=True) as url:
        assert httpx.post(f"{url}/ask", json=TROOPS, timeout=30).status_code == 401
        assert httpx.get(f"{url}/documents", timeout=30).status_code == 401
        assert httpx.get(f"{url}/documents/{SEED_ID}", timeout=30).status_code == 401
        r = httpx.post(f"{url}/ask", json=TROOPS, headers=bearer("reader-key-0001"), timeout=30)
        assert r.status_code == 200 and "1,500" in r.json()["answer"]
        # the OpenAI-compatible routes and the metrics are questions and reads too; the
        # OpenAI routes refuse in OpenAI's error shape, which its clients read
        chat = {"model": "qa", "messages": [{"role": "user", "content": TROOPS["question"]}]}
        r = httpx.post(f"{url}/v1/chat/completions", json=chat, timeout=30)
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        assert httpx.get(f"{url}/v1/models", timeout=30).status_code == 401
        assert httpx.get(f"{url}/metrics", timeout=30).status_code == 401
        r = httpx.post(
            f"{url}/v1/chat/completions", json=chat, headers=bearer("reader-key-0001"), timeout=30
        )
        assert r.status_code == 200 and "1,500" in r.json()["answer"]
        # the page (where a key is entered) and the health check stay open
        assert httpx.get(f"{url}/", timeout=30).status_code == 200
        assert httpx.get(f"{url}/health", timeout=30).json()["ready"] is True


def test_qa_keys_add_writes_digests_the_server_reads_without_a_restart(
    fresh_seed_index, embedder, tmp_path
):
    key_file = tmp_path / "secrets" / "keys.txt"
    done = run("keys", "add", "alice", "--file", str(key_file))
    assert done.returncode == 0, done.stderr
    alice = done.stdout.strip()
    assert len(alice) >= 40 and "shown only now" in done.stderr
    stored = key_file.read_text(encoding="utf-8")
    assert stored.startswith("alice:") and alice not in stored
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    again = run("keys", "add", "alice", env={"QA_API_KEYS": f"@{key_file}"})
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert "already has a key named 'alice'" in again.stderr
    bad = run("keys", "add", "no spaces", "--file", str(key_file))
    assert bad.returncode == 1 and "is not a key name" in bad.stderr
    unnamed = run("keys", "add", "bob", env={"QA_API_KEYS": ""})
    assert unnamed.returncode == 1 and "QA_API_KEYS=@FILE" in unnamed.stderr

    with serve(fresh_seed_index, embedder, api_keys=f"@{key_file}") as url:
        assert upload(url, headers=bearer(alice)).status_code == 201
        assert listed(url)["note.txt"]["added_by"] == "alice"
        added = run("keys", "add", "bob", env={"QA_API_KEYS": f"@{key_file}"})
        assert added.returncode == 0, added.stderr
        bob = added.stdout.strip()
        assert upload(url, "bob.txt", bearer(bob)).status_code == 201
        assert listed(url)["bob.txt"]["added_by"] == "bob"
        # deleting a line revokes the key
        key_file.write_text(
            "\n".join(line for line in key_file.read_text().splitlines() if line[:4] != "bob:")
            + "\n"
        )
        assert upload(url, "bob2.txt", bearer(bob)).status_code == 403


def test_a_missing_or_malformed_key_file_stops_the_server_at_start(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(KeyFileError, match="qa keys add"):
        create_app(Settings(index_dir=tmp_path / "index", api_keys=f"@{missing}"))
    bad = tmp_path / "bad.txt"
    bad.write_text("# keys\nalice:not-a-digest\n")
    done = run("serve", "--index-dir", str(tmp_path / "index"), env={"QA_API_KEYS": f"@{bad}"})
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == f"error: {bad}, line 2: expected NAME:SHA256HEX (as `qa keys add NAME` writes)"
    )


def test_every_key_is_compared_in_constant_time(monkeypatch):
    ring = KeyRing("first-key-000001,second-key-00002,third-key-000003")
    calls = []
    real = qa.http.keys.hmac.compare_digest

    def counting(a, b):
        calls.append(len(a))
        return real(a, b)

    monkeypatch.setattr(qa.http.keys.hmac, "compare_digest", counting)
    for presented, name in [
        ("first-key-000001", "key1"),
        ("third-key-000003", "key3"),
        ("third-key-00000", None),
        ("", None),
    ]:
        calls.clear()
        assert ring.identify(presented) == name
        # every stored digest compared, each a 32-byte SHA-256, whatever matched
        assert calls == [32, 32, 32]


def test_a_host_header_not_of_this_server_is_400(fresh_seed_index, embedder):
    with serve(fresh_seed_index, embedder, allowed_hosts="qa.example.org") as url:
        port = url.rsplit(":", 1)[1]
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.2", "localhost.evil.example"):
            for method, path in (("GET", "/"), ("GET", f"/documents/{SEED_ID}"), ("POST", "/ask")):
                r = httpx.request(
                    method, url + path, json=TROOPS, headers={"Host": host}, timeout=30
                )
                assert r.status_code == 400, (host, path)
                assert "QA_ALLOWED_HOSTS" in r.json()["detail"]
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "qa.example.org"):
            r = httpx.post(f"{url}/ask", json=TROOPS, headers={"Host": host}, timeout=30)
            assert r.status_code == 200, host


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/", 200),
        ("GET", "/static/app.js", 200),
        ("GET", "/documents", 200),
        ("POST", "/ask", 200),
        ("GET", "/no/such/page", 404),
        ("POST", "/documents", 403),
    ],
)
def test_every_response_carries_the_security_headers(client, method, path, status):
    r = client.request(method, path, json=TROOPS)
    assert r.status_code == status
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp


def test_bad_host_responses_carry_them_too(client):
    r = client.get("/", headers={"Host": "evil.example"})
    assert r.status_code == 400 and r.headers["x-frame-options"] == "DENY"


def test_questions_and_changes_are_rate_limited_per_key_or_address(fresh_seed_index, embedder):
    limits = {"rate_limit": 3, "write_rate_limit": 1}
    with serve(fresh_seed_index, embedder, api_keys="key-one-0001,key-two-0002", **limits) as url:
        for _ in range(3):
            assert httpx.post(f"{url}/ask", json=TROOPS, timeout=30).status_code == 200
        r = httpx.post(f"{url}/ask", json=TROOPS, timeout=30)
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert "QA_RATE_LIMIT" in r.json()["detail"]
        chat = {"model": "qa", "messages": [{"role": "user", "content": TROOPS["question"]}]}
        r = httpx.post(f"{url}/v1/chat/completions", json=chat, timeout=30)
        assert r.status_code == 429 and r.json()["error"]["type"] == "rate_limit_error"
        # a key has a budget of its own
        r = httpx.post(f"{url}/ask", json=TROOPS, headers=bearer("key-one-0001"), timeout=30)
        assert r.status_code == 200

        assert upload(url, "a.txt", bearer("key-one-0001")).status_code == 201
        r = upload(url, "b.txt", bearer("key-one-0001"))
        assert r.status_code == 429 and "QA_WRITE_RATE_LIMIT" in r.json()["detail"]
        assert int(r.headers["retry-after"]) >= 1
        assert upload(url, "c.txt", bearer("key-two-0002")).status_code == 201
        assert set(listed(url)) == {SEED_ID, "a.txt", "c.txt"}


def test_qa_serve_refuses_a_public_address_without_keys(tmp_path):
    done = run("serve", "--host", "0.0.0.0", "--index-dir", str(tmp_path / "index"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: refusing to serve on 0.0.0.0 without API keys")
    assert "--insecure" in done.stderr

    refuse_open_server(Settings(host="127.0.0.1"), insecure=False)
    refuse_open_server(Settings(host="::1"), insecure=False)
    refuse_open_server(Settings(host="0.0.0.0"), insecure=True)
    refuse_open_server(Settings(host="0.0.0.0", api_keys="a-key-0001"), insecure=False)
    with pytest.raises(AccessDenied):
        refuse_open_server(Settings(host="192.0.2.7", api_keys=" "), insecure=False)


@pytest.mark.parametrize(
    "origin, host, same",
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("https://qa.example.org", "qa.example.org", True),
        ("https://qa.example.org", "qa.example.org:443", True),
        ("http://127.0.0.1:9", "127.0.0.1:8000", False),
        ("http://localhost:8000", "127.0.0.1:8000", False),
        ("http://qa.example.org.evil.example", "qa.example.org", False),
        ("null", "127.0.0.1:8000", False),
        ("file://", "127.0.0.1:8000", False),
        ("http://127.0.0.1:99999", "127.0.0.1:8000", False),
    ],
)
def test_an_origin_is_this_server_s_only_when_name_and_port_agree(origin, host, same):
    assert same_place(origin, host) is same


def test_the_api_docs_offer_the_key_for_changes(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    paths = schema["paths"]
    assert paths["/documents"]["post"]["security"] == [{"apiKey": []}]
    assert paths["/documents/{doc_id}"]["delete"]["security"] == [{"apiKey": []}]
    assert "security" not in paths["/ask"]["post"]  # reads need none by default
