"""Display metadata on the registered classes, the shared registry and one registration style."""

from __future__ import annotations

import subprocess
import sys

import matplotlib.colors
import pytest
from matplotlib.markers import MarkerStyle

from xbench import datasets, methods, noise
from xbench.reporting import display, plots, results


def test_every_registered_method_carries_its_metadata():
    orders = []
    for name in methods.BUILTINS:
        cls = methods.get(name.name)
        assert cls.display_name and isinstance(cls.display_name, str), name
        assert isinstance(cls.order, int)
        assert matplotlib.colors.is_color_like(cls.color), (name, cls.color)
        MarkerStyle(cls.marker)  # raises for an unknown marker
        orders.append(cls.order)
    assert len(set(orders)) == len(orders)
    colors = [methods.get(c.name).color for c in methods.BUILTINS]
    assert len(set(colors)) == len(colors)


def test_report_and_plots_read_the_classes(monkeypatch):
    cls = methods.get("dcmh")
    monkeypatch.setattr(cls, "display_name", "Deep-CMH")
    monkeypatch.setattr(cls, "color", "#123456")
    monkeypatch.setattr(cls, "marker", "p")
    assert display.method_display("dcmh") == "Deep-CMH"
    assert results.method_label("dcmh", {"lr": 0.1}) == "Deep-CMH [lr=0.1]"  # table rows and legends
    assert plots.method_color("dcmh") == "#123456" and plots.method_marker("dcmh") == "p"
    monkeypatch.setattr(cls, "order", 0)
    assert display.method_order()[0] == "dcmh"


def test_method_order_and_names_of_the_paper_tables():
    assert display.method_order() == (
        "lsh",
        "cca",
        "pls",
        "bce",
        "dcmh",
        "prdh",
        "ssah",
        "cmhh",
        "mrl",
        "uot-rcl",
        "cmmq-code",
        "cmmq",
    )
    names = [display.method_display(m) for m in ("cmmq-code", "uot-rcl", "bce")]
    assert names == ["CMMQ-code", "UOT-RCL", "BCE"]


def test_unregistered_aliases_are_not_in_the_display_tables():
    for alias in ("uot_rcl", "cmmq_code"):
        assert alias not in methods.registry
        assert display.method_display(alias) == alias
        assert alias not in display.method_order()
        # a name nobody registered gets a colour derived from its name, like any plugin
        assert plots.method_color(alias) in plots.PALETTE


def test_dataset_entries_carry_display_metadata():
    assert display.dataset_display("nuswide") == "NUS-WIDE"
    assert display.dataset_display("mirflickr25k") == "MIRFlickr-25K"
    assert display.dataset_display("synthetic") == "synthetic"
    assert display.dataset_order()[:4] == ("mirflickr25k", "nuswide", "mscoco", "wikipedia")
    assert display.dataset_display("files:/tmp/x.npz") == "files:/tmp/x.npz"


def test_one_registration_style_for_the_three_wings():
    for wing, names in (
        (methods, [c.name for c in methods.BUILTINS]),
        (datasets, [e.name for e in datasets.BUILTINS]),
        (noise, [c.name for c in noise.BUILTINS]),
    ):
        assert wing.registry.names()[: len(names)] == names
    assert type(methods.registry) is type(datasets.registry) is type(noise.registry)


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_the_registry_module_is_standalone():
    out = _python(
        "import sys, xbench.registry\nprint(sorted(m for m in sys.modules if m.startswith('xbench')))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['xbench', 'xbench._version', 'xbench.registry']"


@pytest.mark.parametrize(
    "wing, module", [("methods", "ssah"), ("datasets", "wikipedia"), ("noise", "models")]
)
def test_a_missing_builtin_module_is_an_error(wing, module):
    # the module is made to look absent both to the import system and to importlib.util.find_spec
    code = f"""
import importlib.abc, importlib.util, sys
BLOCKED = "xbench.{wing}.{module}"
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == BLOCKED:
            raise ModuleNotFoundError("blocked " + name, name=name)
sys.meta_path.insert(0, Block())
_find = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name == BLOCKED else _find(name, *a)
import xbench.{wing}
"""
    out = _python(code)
    assert out.returncode != 0 and ("ImportError" in out.stderr or "ModuleNotFoundError" in out.stderr)
    assert f"blocked xbench.{wing}.{module}" in out.stderr or f"cannot import name '{module}'" in out.stderr
