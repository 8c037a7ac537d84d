"""DESIGN.md's "must not" rules as import checks: every import (module level or inside a function) of every module.

A rule names the package it governs and the imports it forbids there. `ALLOWED` lists today's violations, each
with the issue whose work removes it; a new violation fails, and so does an allowed one that has gone (shrink
the list as they go).
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workbench_gym"

#: (package governed, forbidden import prefixes, exceptions within them, what DESIGN.md says)
RULES = [
    ("workbench_gym.scenes", ("pybullet", "pybullet_utils", "bpy", "blenderproc", "torch"), (), "scenes/ must not import pybullet, bpy or torch"),
    ("workbench_gym.sim", ("workbench_gym.envs", "workbench_gym.language", "workbench_gym.policies"), (), "sim/ knows no tasks or language"),
    ("workbench_gym.control", ("workbench_gym.envs", "workbench_gym.language", "workbench_gym.policies"), (), "control/ knows no tasks"),
    ("workbench_gym.envs", ("workbench_gym.policies",), (), "envs/ never call a planner"),
    ("workbench_gym.envs", ("workbench_gym.synth_data",), (), "synth_data/ is not imported by the envs"),
    ("workbench_gym.language", ("pybullet", "workbench_gym.sim", "workbench_gym.policies"), (),
     "language/ knows nothing of PyBullet, cameras or planners"),
    ("workbench_gym.policies", ("workbench_gym.envs",), ("workbench_gym.envs.high_level", "workbench_gym.envs.observations"),
     "policies/ read no env internals: only the high-level actions and the observation helpers"),
    ("workbench_gym.policies.perception", ("workbench_gym.envs",), (), "policies/perception imports no envs/"),
]

#: Today's violations: (importing module, imported module) -> the issue whose work removes it. Shrink on merging.
ALLOWED: dict[tuple[str, str], int] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Absolute names of every module `path` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(), str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) if node.level else node.module
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return out


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations() -> set[tuple[str, str, str]]:
    """(importing module, imported module, rule) for every forbidden import in the package."""
    found = set()
    # Scripts kept beside packaged data as its provenance (benchmark/sets/<name>/) are no modules: their folders cannot be imported.
    modules = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py") if p.parent.name.isidentifier()}
    known = set(modules)
    for importer, imported in modules.items():
        for governed, forbidden, exceptions, rule in RULES:
            if not _under(importer, governed):
                continue
            for name in imported:
                if name.startswith("workbench_gym") and name not in known:
                    continue  # `from package import attribute`: the package itself is checked
                if any(_under(name, f) for f in forbidden) and not any(_under(name, e) for e in exceptions):
                    found.add((importer, name, rule))
    return found


def test_the_layers_hold_apart_from_the_listed_violations():
    new = sorted((a, b, rule) for a, b, rule in violations() if (a, b) not in ALLOWED)
    assert not new, "imports DESIGN.md forbids:\n" + "\n".join(f"  {a} imports {b}: {rule}" for a, b, rule in new)


def test_allowed_violations_still_exist():
    """An allowed violation that has been removed comes off the list, so it cannot come back unnoticed."""
    present = {(a, b) for a, b, _ in violations()}
    gone = sorted(set(ALLOWED) - present)
    assert not gone, f"remove from ALLOWED (fixed by issues {sorted({ALLOWED[g] for g in gone})}): {gone}"


def test_the_checker_sees_a_forbidden_import(tmp_path, monkeypatch):
    """The checker itself: a scenes module importing pybullet inside a function is caught."""
    fake = tmp_path / "workbench_gym"
    (fake / "scenes").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "scenes" / "__init__.py").write_text("")
    (fake / "scenes" / "bad.py").write_text("def f():\n    import pybullet\n    from ..sim import world\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    found = {(a, b) for a, b, _ in violations()}
    assert ("workbench_gym.scenes.bad", "pybullet") in found


@pytest.mark.parametrize("module, heavy", [
    ("workbench_gym.scenes", ("pybullet", "gymnasium", "torch", "bpy")),
    ("workbench_gym", ("pybullet", "gymnasium", "torch")),
])
def test_importing_stays_light(module, heavy):
    code = f"import sys, {module}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.strip() == "[]", f"importing {module} loaded {out.strip()}"
