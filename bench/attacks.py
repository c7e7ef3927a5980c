"""Issue 30's attacks, each replayed against a live `qa serve` while a legitimate client
asks one question a second; run by ``bench/hostile.py --attacks``.

Every attack runs from 127.0.0.2 (another address on loopback: another client), except the
foreign page's posts, which come from the user's own browser and so from 127.0.0.1. The
server runs with its default settings, plus one API key (``bench-key``) that the upload
attackers hold (an insider's key: with keys configured, anonymous uploads are refused
before they cost anything) and whose wrong guesses the key guesser sends."""

from __future__ import annotations

import io
import multiprocessing
import random
import shutil
import socket
import statistics
import string
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

ATTACKER = "127.0.0.2"
KEY = "bench-key-0123456789"
QUESTIONS = [
    "How many troops were shipped?",
    "Where were the troops shipped to?",
    "Who shipped the troops?",
    "When were the special forces sent?",
]

Attack = Callable[[str, threading.Event], None]
# what the attack's requests got: status -> count (connections: "closed" / "503")
SEEN: Counter[str] = Counter()
_seen_lock = threading.Lock()


def _saw(what: str) -> None:
    with _seen_lock:
        SEEN[what] += 1


def empty_paragraphs_docx(inflated: int = 9_000_000) -> bytes:
    """A .docx of about 25 KB whose document holds ``inflated`` bytes of empty paragraphs
    (the tester's file: its reading used the whole 30 s budget)."""
    from tests.word import word_document

    base = zipfile.ZipFile(io.BytesIO(word_document("Notes", ["A note."])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as docx:
        for item in base.infolist():
            data = base.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + b"<w:p/>" * (inflated // 6), 1)
            docx.writestr(item.filename, data)
    return out.getvalue()


def attacker_client(**kwargs) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=ATTACKER)
    return httpx.Client(transport=transport, timeout=120, **kwargs)


def _forever(stop: threading.Event, workers: int, work: Callable[[], object]) -> None:
    def loop() -> None:
        while not stop.is_set():
            try:
                got = work()
                if isinstance(got, httpx.Response):
                    _saw(str(got.status_code))
            except httpx.HTTPError as exc:
                _saw(type(exc).__name__)
                time.sleep(0.2)

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join(timeout=130)


def slow_uploads(url: str, stop: threading.Event) -> None:
    """45 hostile .docx files at once, each sent again as soon as it is answered."""
    data = empty_paragraphs_docx()
    with attacker_client(headers={"Authorization": f"Bearer {KEY}"}) as client:

        def send() -> httpx.Response:
            name = f"empty-{random.randrange(10**9)}.docx"
            return client.post(f"{url}/documents", files={"file": (name, data)})

        _forever(stop, 45, send)


def megabyte_upload(url: str, stop: threading.Event) -> None:
    """1 MB of text (110 s of server CPU to embed before), sent again when answered."""
    sentence = b"The harbour board of Gull Rock met on a Tuesday to discuss the ferry. "
    data = sentence * (1_000_000 // len(sentence))
    with attacker_client(headers={"Authorization": f"Bearer {KEY}"}) as client:
        _forever(
            stop, 1, lambda: client.post(f"{url}/documents", files={"file": ("big.txt", data)})
        )


def _sockets(url: str, stop: threading.Event, count: int, first: bytes) -> None:
    """``count`` connections from the attacker sending ``first`` (maybe nothing), each
    opened again as soon as the server closes it."""
    host, port = url.removeprefix("http://").split(":")

    def connect() -> socket.socket | None:
        sock = socket.socket()
        sock.bind((ATTACKER, 0))
        sock.settimeout(2)
        try:
            sock.connect((host, int(port)))
            if first:
                sock.sendall(first)
        except OSError:
            sock.close()
            _saw("not connected")
            return None
        sock.setblocking(False)
        _saw("connected")
        return sock

    held = [s for s in (connect() for _ in range(count)) if s]
    while not stop.wait(0.5):
        alive = []
        for sock in held:
            try:
                got = sock.recv(65536)
                if got.startswith(b"HTTP/1.1 "):
                    _saw(got[9:12].decode())
                if got == b"" or got.startswith(b"HTTP/1.1 "):
                    sock.close()
                    continue
            except BlockingIOError:
                pass
            except OSError:
                sock.close()
                continue
            alive.append(sock)
        held = alive + [s for s in (connect() for _ in range(count - len(alive))) if s]
    for sock in held:
        sock.close()


def idle_sockets(url: str, stop: threading.Event) -> None:
    """300 connections that never send a byte (260 took every route down before)."""
    _sockets(url, stop, 300, b"")


def half_sent_bodies(url: str, stop: threading.Event) -> None:
    """Questions whose body stops half way (two held every question's place for 30 s)."""
    head = (
        b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 60\r\n\r\n{"question":'
    )
    _sockets(url, stop, 10, head)


def foreign_page(url: str, stop: threading.Event) -> None:
    """What another site's page in the user's browser sends: no-cors posts at /ask, from
    the user's own address, with that site's Origin (150 locked the user out before)."""
    question = b'{"question": "How many troops were shipped?"}'
    with httpx.Client(timeout=30) as client:

        def post() -> httpx.Response:
            kind = random.choice(["text/plain", None])
            headers = {"Origin": "http://evil.example"}
            if kind:
                headers["Content-Type"] = kind
            return client.post(f"{url}/ask", content=question, headers=headers)

        _forever(stop, 4, post)


def random_methods(url: str, stop: threading.Event) -> None:
    """Requests with made-up methods (each added a labelled histogram to /metrics)."""
    with attacker_client() as client:

        def send() -> httpx.Response:
            method = "".join(random.choices(string.ascii_uppercase, k=random.randint(3, 12)))
            return client.request(method, f"{url}/{random.choice(['ask', 'documents', 'x'])}")

        _forever(stop, 2, send)


def wrong_keys(url: str, stop: threading.Event) -> None:
    """Guessed keys as fast as they are answered (1,500 at 477/s before)."""
    with attacker_client() as client:

        def guess() -> httpx.Response:
            key = "".join(random.choices(string.ascii_letters, k=32))
            return client.get(f"{url}/documents", headers={"Authorization": f"Bearer {key}"})

        _forever(stop, 4, guess)


ATTACKS: dict[str, Attack] = {
    "slow-uploads": slow_uploads,
    "half-sent-bodies": half_sent_bodies,
    "idle-sockets": idle_sockets,
    "foreign-page": foreign_page,
    "random-methods": random_methods,
    "megabyte-upload": megabyte_upload,
    "wrong-keys": wrong_keys,
}


def _attack(name: str, url: str, stop, results) -> None:
    """Run the attack ``name`` until ``stop`` is set (in a process of its own); put what
    its requests got on ``results``."""
    done = threading.Event()
    thread = threading.Thread(target=ATTACKS[name], args=(url, done), daemon=True)
    thread.start()
    stop.wait()
    done.set()
    thread.join(timeout=150)
    results.put(dict(SEEN))


def ask_each_second(url: str, seconds: float) -> tuple[int, int, list[float], list[str]]:
    """One question a second for ``seconds``: (asked, answered, their times, failures)."""
    times, failures = [], []
    asked = 0
    with httpx.Client(base_url=url, timeout=30) as client:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            due = started + asked
            time.sleep(max(0.0, due - time.monotonic()))
            question = QUESTIONS[asked % len(QUESTIONS)]
            asked += 1
            t0 = time.perf_counter()
            try:
                r = client.post("/ask", json={"question": question})
                took = time.perf_counter() - t0
                if r.status_code == 200 and r.json().get("text"):
                    times.append(took)
                else:
                    failures.append(f"{r.status_code} {r.text[:80]}")
            except httpx.HTTPError as exc:
                failures.append(type(exc).__name__)
    return asked, len(times), times, failures


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else float("nan")


def replay(index_dir: Path | None, seconds: float, only: list[str] | None) -> None:
    from bench.latency import server
    from bench.load import index_seeds

    chosen = list(only or ATTACKS)
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        if index_dir:
            shutil.copytree(index_dir, index)
        else:
            index_seeds(index)
        settings = {"QA_RATE_LIMIT": "120", "QA_API_KEYS": KEY}
        with server(index, 1, extra=settings) as url:
            for q in QUESTIONS:  # warm-up
                httpx.post(f"{url}/ask", json={"question": q}, timeout=60)
            asked, answered, times, _ = ask_each_second(url, seconds)
            quiet = p95(times)
            print(
                f"server: qa serve, default limits, index of {index_dir or 'seeds/'}; "
                f"{seconds:g} s per attack, one question a second"
            )
            print(
                "| attack | answered | p50 ms | p95 ms | p95 / quiet p95 | failures | the attack got |"
            )
            print("|---|---|---|---|---|---|---|")
            print(
                f"| none (quiet) | {answered} of {asked} | "
                f"{1000 * statistics.median(times):.0f} | {1000 * quiet:.0f} | 1.00 | |"
            )
            spawn = multiprocessing.get_context("spawn")
            for name in chosen:
                # the attacker is another client: a process of its own (its threads would
                # otherwise hold the measuring client's GIL)
                stop, results = spawn.Event(), spawn.Queue()
                process = spawn.Process(target=_attack, args=(name, url, stop, results))
                process.start()
                time.sleep(2)  # under way
                asked, answered, times, failures = ask_each_second(url, seconds)
                stop.set()
                SEEN.clear()
                SEEN.update(results.get(timeout=200))
                process.join(timeout=30)
                median = 1000 * statistics.median(times) if times else float("nan")
                ratio = p95(times) / quiet
                shown = "; ".join(sorted(set(failures)))[:120]
                got = ", ".join(f"{k} x{v:,}" for k, v in SEEN.most_common())
                print(
                    f"| {name} | {answered} of {asked} | {median:.0f} | "
                    f"{1000 * p95(times):.0f} | {ratio:.2f} | {shown} | {got} |",
                    flush=True,
                )
                if name == "random-methods":
                    size = len(httpx.get(f"{url}/metrics", timeout=30).content)
                    print(f"|  (/metrics after it: {size:,} bytes) | | | | | |")
                time.sleep(3)  # what the attack left running winds down
