"""Reading one untrusted file within a time and memory budget.

Extraction (PDFium and pypdf, the HTML parser) and sentence splitting run in a worker process of their
own: it is killed when it runs past ``Budget.seconds``, and its address space is limited to
``Budget.memory_mb``, so a file that would need more fails there with a MemoryError instead
of swelling the server. A fresh interpreter (about 0.25 s to start) rather than a fork: the
server's threads may hold locks a forked child would inherit held. Workers run one at a
time, since the same cores answer questions, at the lowest CPU priority (nice 19), and each
ends itself (SIGALRM) shortly after its time, even when the server that started it was
killed and cannot.

Run as ``python -m index.budget MEMORY_MB [SECONDS]``: reads ``(data, name)`` pickled on
stdin, writes ``(kind, payload)`` pickled on stdout."""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import pickle
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from index.errors import OverBudget, UnreadableDocument, UnsupportedType
from index.split import Span

_ERRORS = {e.__name__: e for e in (OverBudget, UnreadableDocument, UnsupportedType)}
_one_at_a_time = threading.Lock()
# texts embedded between two looks at the clock, under a deadline
EMBED_BATCH = 32

# The deadline of the change under way in this thread (``deadline``): its reading is given
# no more time than is left, and its embedding stops once it has passed.
_deadline: contextvars.ContextVar[tuple[float, str] | None] = contextvars.ContextVar(
    "change_deadline", default=None
)


@contextlib.contextmanager
def deadline(seconds: float, over: str) -> Iterator[None]:
    """Within this block, reading (``prepare``) and embedding (``within_deadline``) of a
    document stop ``seconds`` from now, raising OverBudget(``over``)."""
    token = _deadline.set((time.monotonic() + seconds, over))
    try:
        yield
    finally:
        _deadline.reset(token)


def _left() -> tuple[float, str] | None:
    limit = _deadline.get()
    return None if limit is None else (limit[0] - time.monotonic(), limit[1])


def within_deadline(batches: list[list[str]], documents: int) -> Iterator[list[str]]:
    """``index.build``'s progress hook: the batches cut small, and OverBudget as soon as
    the deadline (``deadline``) has passed."""
    for batch in batches:
        for start in range(0, len(batch), EMBED_BATCH):
            left = _left()
            if left is not None and left[0] <= 0:
                raise OverBudget(left[1])
            yield batch[start : start + EMBED_BATCH]


@dataclass(frozen=True)
class Budget:
    seconds: float = 30.0
    memory_mb: int = 1024


@dataclass(frozen=True)
class Prepared:
    """A file's extracted text, its sentences and, for a PDF, its pages (see
    ``index.extract.Extracted``)."""

    text: str
    spans: list[Span]
    pages: tuple[tuple[int, int], ...] = ()
    sections: tuple[tuple[int, str], ...] = ()
    page_labels: tuple[str, ...] = ()


# plain text this small is read in the calling process: decoding, unwrapping and splitting
# are linear in its length (index/split.py bounds pysbd's pieces) and took under 20 ms for
# 64 KB, where starting a worker took about 90 ms of a 160 ms upload (docs/scale.md)
IN_PROCESS_BYTES = 64 * 1024
IN_PROCESS_SUFFIXES = (".txt", ".md", ".markdown")


def prepare(data: bytes, name: str, budget: Budget) -> Prepared:
    """``extract_text`` and ``split_sentences`` of the file ``name`` holding ``data``, in a
    worker process (a small plain text file: here); OverBudget when it needs more time or
    memory than ``budget``."""
    if len(data) <= IN_PROCESS_BYTES and name.lower().endswith(IN_PROCESS_SUFFIXES):
        return _prepared(name, *_work(data, name), budget)
    left = _left()
    if left is not None and left[0] < budget.seconds:  # the change's deadline comes first
        budget = Budget(max(0.5, left[0]), budget.memory_mb)
    command = [sys.executable, "-m", "index.budget", str(budget.memory_mb), str(budget.seconds)]
    with _one_at_a_time:
        worker = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        try:
            out, _ = worker.communicate(pickle.dumps((data, name)), timeout=budget.seconds)
        except subprocess.TimeoutExpired:
            if left is not None and left[0] < budget.seconds + 1:
                raise OverBudget(left[1]) from None
            raise OverBudget(
                f"{name} takes more than {budget.seconds:g} s to read "
                "(the QA_EXTRACT_SECONDS setting)"
            ) from None
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    try:
        kind, payload = pickle.loads(out)
    except (pickle.UnpicklingError, EOFError, ValueError):  # it died without an answer
        kind, payload = "memory", None
    return _prepared(name, kind, payload, budget)


def _prepared(name: str, kind: str, payload, budget: Budget) -> Prepared:
    """What ``_work`` returned, as a Prepared or the error it names."""
    if kind == "ok":
        text, spans, pages, sections, labels = payload
        return Prepared(text, [Span(a, b) for a, b in spans], pages, sections, labels)
    if kind == "memory":
        raise OverBudget(
            f"{name} needs more than {budget.memory_mb:,} MB to read "
            "(the QA_EXTRACT_MEMORY_MB setting)"
        )
    if kind in _ERRORS:
        raise _ERRORS[kind](payload)
    raise UnreadableDocument(f"{name} could not be read ({payload})")


def _work(data: bytes, name: str) -> tuple[str, object]:
    from index.extract import extract
    from index.split import split_sentences

    try:
        extracted = extract(data, name)
        spans = [(s.start, s.end) for s in split_sentences(extracted.text)]
        where = (extracted.pages, extracted.sections, extracted.page_labels)
        return "ok", (extracted.text, spans, *where)
    except MemoryError:
        return "memory", None
    except UnreadableDocument as exc:
        return type(exc).__name__, str(exc)
    except Exception as exc:  # noqa: BLE001 - any other failure of a parser is the file's
        return "error", f"{type(exc).__name__}: {exc}"


# how much lower a reading worker runs than the server: as low as it can
NICE = 19


def main() -> None:
    limit = int(sys.argv[1]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if len(sys.argv) > 2:  # the default action of SIGALRM ends the process
        signal.alarm(math.ceil(float(sys.argv[2])) + 1)
    with contextlib.suppress(OSError):
        os.nice(NICE)
    try:
        data, name = pickle.load(sys.stdin.buffer)
        message = _work(data, name)
        out = pickle.dumps(message)
    except MemoryError:
        out = pickle.dumps(("memory", None))
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
