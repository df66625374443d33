"""Exceptions raised by dataset loaders, file readers and split files.

All carry a one-line message that names the file (or option) and says what was expected.
They subclass the built-in ``ValueError`` / ``FileNotFoundError`` so that the wing does not
depend on the core: the command line turns them into ``XbenchError`` (exit status 2).
"""

from __future__ import annotations


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


class DatasetError(ValueError):
    """A dataset file or array that is not what the loader expects."""

    def __init__(self, message: str):
        super().__init__(_one_line(message))


class MissingVariableError(DatasetError):
    """A file lacks a variable (array) the loader needs; the message lists what was found."""


class SplitError(DatasetError):
    """A split (query / train / database indices) that is malformed or breaks its protocol."""


class DatasetFileNotFoundError(FileNotFoundError):
    """A dataset file is missing; the message says which files are expected and where to get them."""

    def __init__(self, message: str):
        super().__init__(_one_line(message))

    def __str__(self) -> str:  # FileNotFoundError would print "[Errno …]" for two-argument forms
        return self.args[0]
