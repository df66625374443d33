"""The core's one atomic file writer: readers see either the old file, nothing, or the whole new file.

Every file the core writes (run results, baselines, reports, figures, ``xbench evaluate -o``)
goes through :func:`atomic_path`: the content is written to a temporary file in the target's
folder (``.tmp-<pid>-<host>-<random><suffix>``, see :func:`temp_prefix`: a name
the results reader skips and the next ``xbench run`` removes once its process is gone), flushed
to disk and renamed onto the target, which is atomic on POSIX file systems. On any error the temporary file
is removed and the target is left as it was. The temporary file is created with mode 0666
filtered by the process umask, like any ordinary file — the umask is never read or changed.
(The datasets wing keeps its own writer, :func:`xbench.datasets.matfile.atomic_path`, because
the wings never import the core.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

TEMP_PREFIX = ".tmp-"


def hostname() -> str:
    return socket.gethostname()


def host_tag(host: str | None = None) -> str:
    """Eight hex digits naming a host inside temp-file names."""
    return hashlib.sha1((host or hostname()).encode()).hexdigest()[:8]


def temp_prefix() -> str:
    """The prefix of this process's temp files: ``.tmp-<pid>-<host tag>-`` (the claims'
    :func:`xbench.running.claims.clean_temp_files` removes those of processes that are gone)."""
    return f"{TEMP_PREFIX}{os.getpid()}-{host_tag()}-"


def _tmp_name(path: Path) -> Path:
    return path.with_name(f"{temp_prefix()}{secrets.token_hex(4)}{path.suffix}")


@contextlib.contextmanager
def atomic_path(path: str | Path, fsync: bool = True) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path``; on success it is renamed onto ``path``.

    The block writes the temporary path by name (e.g. ``fig.savefig(tmp)``). Parent folders are
    created. With ``fsync`` the file's content is forced to disk before the rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        yield tmp
        if fsync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    with atomic_path(path, fsync=False) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
