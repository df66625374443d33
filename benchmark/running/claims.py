"""Claims: so that many processes sharing one results folder train each cell exactly once.

Before a process trains a cell it *claims* it: it creates ``<run_id>.claim`` beside the
cell's result JSON, atomically (the claim's content is written to a private temp file which
is then hard-linked to the claim name — ``link`` fails if the name exists, on local file
systems and on NFS alike; where hard links are not supported, ``open(O_CREAT | O_EXCL)`` is
used). Exactly one process succeeds; the others skip the cell. The claim names the host,
the process id, the start time and a random token, and is removed when the cell's result
is stored (or the process is interrupted).

A process keeps its claims alive by touching them (a heartbeat thread updates their
modification time every ``stale_after / 4`` seconds, at most every minute). A claim is
*stale*, and is taken over by the next process that wants the cell, when

* it was made on this host by a process that no longer exists, or
* its modification time is older than ``stale_after`` seconds (default 600): the rule for
  claims of other hosts (a node of a cluster that died), and a safety net against reused
  process ids.

A takeover renames the stale claim to a unique name, checks that the renamed file is the
claim it judged stale (same token) and only then deletes it and claims the cell anew; if it
was not (another process took it over in between), it is put back. See docs/running.md for
the behaviour on shared file systems.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from xbench.atomic import TEMP_PREFIX, host_tag, hostname, temp_prefix

CLAIM_SUFFIX = ".claim"
DEFAULT_STALE_AFTER = 600.0
_TEMP_NAME = re.compile(r"^\.tmp-(\d+)-([0-9a-f]{8})-")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def read_claim(path: Path) -> dict[str, Any] | None:
    """The claim's content, or None if it is missing, empty or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def is_stale(info: dict[str, Any] | None, mtime: float, now: float, stale_after: float) -> bool:
    """The staleness rule of the module docstring (``mtime`` and ``now`` on the same clock)."""
    if now - mtime > stale_after:
        return True
    if info is None:
        return False  # being written, or damaged: only its age can make it stale
    if info.get("host") == hostname():
        try:
            return not pid_alive(int(info.get("pid", -1)))
        except (TypeError, ValueError):
            return False
    return False


def _fs_now(folder: Path) -> float:
    """The file system's clock (a touched probe's mtime), so ages are measured against mtimes."""
    probe = folder / f"{temp_prefix()}clock"
    try:
        probe.write_bytes(b"")
        return probe.stat().st_mtime
    except OSError:
        return time.time()
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


class ClaimBook:
    """The claims held by this process, with their heartbeat (thread-safe)."""

    def __init__(self, stale_after: float = DEFAULT_STALE_AFTER, heartbeat: float | None = None):
        if not stale_after > 0:
            raise ValueError(f"stale_after must be positive, got {stale_after}")
        self.stale_after = float(stale_after)
        self.heartbeat = heartbeat if heartbeat is not None else max(0.05, min(60.0, self.stale_after / 4))
        self.held: dict[Path, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ claiming
    def _content(self, token: str) -> bytes:
        return json.dumps(
            {
                "host": hostname(),
                "pid": os.getpid(),
                "token": token,
                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "started_unix": time.time(),
            },
            indent=1,
        ).encode()

    def _create(self, path: Path) -> str | None:
        """Create the claim atomically; its token, or None if the name exists."""
        token = uuid.uuid4().hex
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{temp_prefix()}{token}{CLAIM_SUFFIX}")
        tmp.write_bytes(self._content(token))
        try:
            os.link(tmp, path)
        except FileExistsError:
            return None
        except OSError as exc:  # no hard links here: fall back to O_EXCL
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return None
            with os.fdopen(fd, "wb") as fh:
                fh.write(self._content(token))
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return token

    def _take_over(self, path: Path) -> bool:
        """Remove ``path`` if it is (still) a stale claim; True if removed."""
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return True
        info = read_claim(path)
        if not is_stale(info, mtime, _fs_now(path.parent), self.stale_after):
            return False
        token = (info or {}).get("token")
        tomb = path.with_name(f"{temp_prefix()}{uuid.uuid4().hex}.stale-claim")
        try:
            os.rename(path, tomb)
        except FileNotFoundError:
            return True  # someone else removed it; try to claim
        moved = read_claim(tomb)
        if (moved or {}).get("token") == token:
            tomb.unlink(missing_ok=True)
            return True
        # we moved a claim made after our look (a racing takeover): put it back
        with contextlib.suppress(OSError):
            os.link(tomb, path)
        tomb.unlink(missing_ok=True)
        return False

    def try_claim(self, path: str | Path) -> bool:
        """Claim ``path`` for this process; False if another live process holds it."""
        path = Path(path)
        for _ in range(2):
            token = self._create(path)
            if token is not None:
                with self._lock:
                    self.held[path] = token
                return True
            if not self._take_over(path):
                return False
        return False

    def release(self, path: str | Path) -> None:
        """Remove our claim on ``path`` (never another process's)."""
        path = Path(path)
        with self._lock:
            token = self.held.pop(path, None)
        if token is None:
            return
        if (read_claim(path) or {}).get("token") == token:
            with contextlib.suppress(OSError):
                path.unlink()

    def release_all(self) -> None:
        for path in list(self.held):
            self.release(path)

    # ------------------------------------------------------------------ heartbeat
    def beat(self) -> None:
        """Touch every claim this process holds."""
        with self._lock:
            paths = list(self.held)
        for path in paths:
            with contextlib.suppress(OSError):
                os.utime(path)

    def _loop(self) -> None:
        while not self._stop.wait(self.heartbeat):
            self.beat()

    def __enter__(self) -> ClaimBook:  # noqa: PYI034
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="xbench-claim-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.release_all()


def clean_temp_files(
    results: str | Path, before: float, stale_after: float = DEFAULT_STALE_AFTER
) -> list[Path]:
    """Remove leftover temp files (``.tmp-*``) of interrupted writes under ``results``; returns them.

    A temp file is removed when it is older than ``before`` (the run's start, on the file
    system's clock) and either names a process of this host that no longer exists, or is
    older than ``stale_after`` seconds (a process of another host, or an old naming).
    Only the suite's own ``.tmp-*`` names are touched.
    """
    root = Path(results)
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    me = host_tag()
    for folder in (root / "runs", root / "splits", root):
        if not folder.is_dir():
            continue
        paths = folder.rglob(f"{TEMP_PREFIX}*") if folder != root else folder.glob(f"{TEMP_PREFIX}*")
        for path in paths:
            try:
                st = path.lstat()
            except OSError:
                continue
            if not path.is_file() or st.st_mtime >= before:
                continue
            m = _TEMP_NAME.match(path.name)
            dead_here = bool(m) and m.group(2) == me and not pid_alive(int(m.group(1)))
            if dead_here or before - st.st_mtime > stale_after:
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
    return removed
