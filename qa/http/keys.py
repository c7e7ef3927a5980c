"""API keys (``QA_API_KEYS``): the keys themselves, comma-separated, or ``@FILE``, a file of
``name:sha256hex`` lines that ``qa keys add NAME`` appends to. Only a key's SHA-256 digest is
kept (a leaked key file gives no key away), and a presented key is compared with every
digest in constant time, so neither the answer's timing nor its content says how close a
guess came or which key it was near."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from qa.errors import KeyFileError

log = logging.getLogger(__name__)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
_LINE = re.compile(r"(?P<name>[^:\s]+):(?P<digest>[0-9a-fA-F]{64})")


@dataclass(frozen=True)
class StoredKey:
    name: str
    digest: bytes


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def parse_key_file(text: str, path: Path) -> list[StoredKey]:
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise KeyFileError(
                f"{path}, line {number}: expected NAME:SHA256HEX (as `qa keys add NAME` writes)"
            )
        keys.append(StoredKey(match["name"], bytes.fromhex(match["digest"])))
    return keys


def read_key_file(path: Path) -> list[StoredKey]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(
            f"QA_API_KEYS names the key file {path}, which does not exist: "
            "create it with `qa keys add NAME`"
        ) from None
    return parse_key_file(text, path)


class KeyRing:
    """The keys the service accepts. A key file is read again whenever it changes, so a key
    added with ``qa keys add`` (or a line deleted to revoke one) counts without a restart."""

    def __init__(self, setting: str | None) -> None:
        setting = (setting or "").strip()
        self.path: Path | None = Path(setting[1:]).expanduser() if setting[:1] == "@" else None
        self._stamp: tuple[int, int] | None = None
        if self.path is not None:
            self._keys = read_key_file(self.path)
            self._stamp = _stamp(self.path)
        else:
            raw = [k.strip() for k in setting.split(",") if k.strip()]
            self._keys = [StoredKey(f"key{n}", digest(k)) for n, k in enumerate(raw, start=1)]

    @property
    def enabled(self) -> bool:
        """Whether keys are configured at all (an empty key file still counts: it means
        nobody may write until a key is added)."""
        return self.path is not None or bool(self._keys)

    def keys(self) -> list[StoredKey]:
        if self.path is not None and _stamp(self.path) != self._stamp:
            try:
                self._keys, self._stamp = read_key_file(self.path), _stamp(self.path)
            except (OSError, KeyFileError) as exc:
                # fail closed: a key file that cannot be read admits nobody
                log.warning("no API key accepted until the key file is fixed: %s", exc)
                self._keys, self._stamp = [], None
        return self._keys

    def identify(self, presented: str) -> str | None:
        """The name of the key presented, or None. Every stored digest is compared, each
        with ``hmac.compare_digest``, whatever matched earlier."""
        wanted = digest(presented)
        found = None
        for key in self.keys():
            if hmac.compare_digest(wanted, key.digest) and found is None:
                found = key.name
        return found


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def add_key(path: Path, name: str) -> str:
    """Append a new key named ``name`` to the key file (created, readable by its owner
    only, if missing) and return the key: it is stored nowhere else, only its digest."""
    if not NAME.fullmatch(name):
        raise KeyFileError(
            f"{name!r} is not a key name: use letters, digits and . _ @ - (at most 64)"
        )
    existing = read_key_file(path) if path.exists() else []
    if any(k.name == name for k in existing):
        raise KeyFileError(f"{path} already has a key named {name!r}: choose another name")
    key = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(f"{name}:{digest(key).hex()}\n")
    return key
