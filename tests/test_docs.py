"""The README's development section and docs/architecture.md show the tree as it is."""

from __future__ import annotations

import re

from geo.settings import ROOT


def _tree(text: str, heading: str) -> list[str]:
    """The lines of the first fenced block after ``heading``."""
    after = text[text.index(heading) :]
    start = after.index("```\n") + 4
    return after[start : after.index("```", start)].rstrip("\n").split("\n")


def _modules(folder: str) -> set[str]:
    """The modules of a package, but for ``__init__.py`` and ``__main__.py``, which every package may have."""
    return {p.name for p in (ROOT / folder).glob("*.py")} - {"__init__.py", "__main__.py"}


def test_the_readme_and_the_architecture_page_show_the_same_tree():
    readme = _tree((ROOT / "README.md").read_text(encoding="utf-8"), "## 开发 / Development")
    architecture = _tree((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"), "## 代码树 / The tree")
    assert readme == architecture


def test_the_tree_lists_every_module_of_the_core_and_nothing_that_is_not_there():
    lines = _tree((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"), "## 代码树 / The tree")
    listed_top, listed_geo = set(), set()
    for line in lines:
        name = line.split()[0]
        if not line.startswith(" "):
            assert (ROOT / name).exists(), name
            listed_top.add(name.rstrip("/"))
        elif name.endswith("/"):
            package = "geo/" + name.rstrip("/")
            listed = set(re.findall(r"\b[\w]+\.py\b", line.split(None, 1)[1]))
            assert listed - {"__init__.py"} == _modules(package), package
            listed_geo.add(name.rstrip("/"))
        else:
            listed_geo.update(re.findall(r"\b[\w]+\.py\b", line))
    packages = {p.name for p in (ROOT / "geo").iterdir() if (p / "__init__.py").exists()}
    assert packages | _modules("geo") == listed_geo
    assert {"geo", "ui", "layers", "tests", "bench", "docs"} <= listed_top


def test_the_tests_mirror_the_packages():
    for package in ("model", "store", "analysis", "access", "importers", "export"):
        assert (ROOT / "tests" / package).is_dir() and (ROOT / "geo" / package).is_dir()
    for package in ("layers", "ui"):
        assert (ROOT / "tests" / package).is_dir()


def test_the_tree_names_every_shared_module_of_the_pages():
    lines = _tree((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"), "## 代码树 / The tree")
    (ui_line,) = [line for line in lines if line.startswith("ui/")]
    shared = {
        p.name
        for p in (ROOT / "ui").glob("*.py")
        if not p.name.endswith(("_page.py", "_panel.py")) and p.name != "__init__.py"
    }
    assert set(re.findall(r"\b\w+\.py\b", ui_line)) - {"_page.py"} == shared
