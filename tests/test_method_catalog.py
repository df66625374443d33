"""The static reading of the built-in methods' metadata (``xbench list methods`` without torch)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap

import pytest

from xbench.cli import method_catalog
from xbench.cli.listing import describe_methods, format_methods


def test_static_metadata_equals_the_imported_classes():
    from xbench import methods

    infos = method_catalog.builtin_methods()
    assert [i.name for i in infos] == [cls.name for cls in methods.BUILTINS]
    for info, cls in zip(infos, methods.BUILTINS, strict=True):
        for attr in ("name", "paper", "description", "supported_bits", "default_epochs"):
            assert getattr(info, attr) == getattr(cls, attr), (cls.name, attr)
        assert list(info.hyperparameters) == list(cls.hyperparameters), cls.name
        for key, h in cls.hyperparameters.items():
            assert dataclasses.astuple(info.hyperparameters[key]) == dataclasses.astuple(h), (cls.name, key)
        for features in (True, False):
            assert info.defaults(features) == cls.defaults(features)


def test_listing_is_the_same_on_the_static_and_the_imported_path():
    from xbench import methods

    static = [(info.name, info) for info in method_catalog.builtin_methods()]
    for verbose in (False, True):
        lines = format_methods(static, verbose)
        assert lines == format_methods(methods.registry.items(), verbose) and len(lines) > 24
    # with the wing imported, the listing reads the live registry (methods registered at run time show)
    assert describe_methods(verbose=True) == format_methods(methods.registry.items(), True)


def test_a_source_the_reader_cannot_follow_falls_back_to_importing(monkeypatch):
    def refuse():
        raise method_catalog.StaticReadError("forced")

    monkeypatch.setattr(method_catalog, "builtin_methods", refuse)
    monkeypatch.delitem(sys.modules, "xbench.methods", raising=False)
    import xbench

    monkeypatch.delattr(xbench, "methods", raising=False)
    lines = describe_methods()
    assert lines[0].startswith("lsh ") and any(line.startswith("dcmh ") for line in lines)


def _package(tmp_path, body: str):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "hyper.py").write_text("class Hyper:\n    pass\n")
    (pkg / "base.py").write_text(
        "from .hyper import Hyper\n\nclass Hasher:\n    name = ''\n    paper = ''\n    description = ''\n"
        "    supported_bits = 'any'\n    default_epochs = 50\n    hyperparameters = {}\n"
    )
    (pkg / "m.py").write_text(textwrap.dedent(body))
    (pkg / "__init__.py").write_text("from .m import M\nBUILTINS = (M,)\n")
    return pkg


def test_reader_follows_spreads_updates_fstrings_and_inheritance(tmp_path):
    pkg = _package(
        tmp_path,
        """
        from .base import Hasher, Hyper
        _T = "repo @ abc"
        def shared():
            '''docstring'''
            return {"lr": Hyper(10**-1.5, f"{_T} L1", "rate", features_default=1e-3)}
        TABLE = dict(shared())
        TABLE.update({"k": Hyper(3, "x", choices=("a", "b"))})
        class Base(Hasher):
            paper = "P " + "Q"
        class M(Base):
            name = "m"
            display_name, order = "M", 5
            description = (
                "two "
                "parts"
            )
            hyperparameters = {**TABLE, "z": Hyper(-2, "y")}
        """,
    )
    (info,) = method_catalog.read_methods(pkg)
    assert (info.name, info.paper, info.description, info.supported_bits, info.default_epochs) == (
        "m",
        "P Q",
        "two parts",
        "any",
        50,
    )
    assert list(info.hyperparameters) == ["lr", "k", "z"]
    assert info.hyperparameters["lr"].source == "repo @ abc L1"
    assert info.defaults(True) == {"lr": 1e-3, "k": 3, "z": -2}
    assert info.defaults(False)["lr"] == 10**-1.5
    assert info.hyperparameters["k"].choices == ("a", "b")


@pytest.mark.parametrize(
    "body",
    [
        # a module-level mutation the reader does not follow
        "from .base import Hasher\nT = {}\nT['a'] = 1\nclass M(Hasher):\n    name = 'm'\n    hyperparameters = T\n",
        # a comprehension
        "from .base import Hasher\nclass M(Hasher):\n    name = 'm'\n    hyperparameters = {k: 1 for k in 'ab'}\n",
        # a helper with arguments
        "from .base import Hasher\ndef f(x):\n    return {}\nclass M(Hasher):\n    name = 'm'\n"
        "    hyperparameters = f(1)\n",
        # an attribute computed by a function of the class
        "from .base import Hasher\nclass M(Hasher):\n    name = 'm'\n    def description(self):\n        return 'x'\n",
        # a name rebound after its first assignment
        "from .base import Hasher\nD = 'a'\nD = 'b'\nclass M(Hasher):\n    name = 'm'\n    description = D\n",
        # names defined in terms of each other
        "from .base import Hasher\nA = B\nB = A\nclass M(Hasher):\n    name = 'm'\n    description = A\n",
        # a base class from outside the package, which might set the attributes
        "from .base import Hasher\nfrom elsewhere import Mixin\nclass M(Mixin, Hasher):\n    name = 'm'\n",
        # hyperparameters that are not Hyper declarations
        "from .base import Hasher\nclass M(Hasher):\n    name = 'm'\n    hyperparameters = {'a': 1}\n",
    ],
)
def test_reader_refuses_what_it_cannot_follow(tmp_path, body):
    pkg = _package(tmp_path, body)
    with pytest.raises(method_catalog.StaticReadError):
        method_catalog.read_methods(pkg)


def _modules_after(code: str) -> dict[str, bool]:
    probe = f"import sys, json\n{code}\nprint(json.dumps({{m: m in sys.modules for m in ('torch', 'xbench.methods')}}))"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(res.stdout.strip().splitlines()[-1].replace("true", "True").replace("false", "False"))


@pytest.mark.parametrize("args", [["list"], ["list", "methods"], ["list", "methods", "-v"], ["list", "all"]])
def test_list_imports_neither_torch_nor_the_methods_wing(args):
    code = f"from xbench.cli import main\ntry:\n    main({args!r}, standalone_mode=False)\nexcept SystemExit:\n    pass"
    assert _modules_after(code) == {"torch": False, "xbench.methods": False}
