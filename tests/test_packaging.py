"""The wheel's metadata tells the truth: it builds with the setuptools it declares and names every licence it ships."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PEP639_SETUPTOOLS = 77  # the first setuptools that reads `license = "<SPDX expression>"` and license-files


def test_declared_setuptools_can_build_a_licence_expression():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(project["project"]["license"], str), "a PEP 639 licence expression"
    requirement = next(r for r in project["build-system"]["requires"] if r.startswith("setuptools"))
    minimum = re.search(r">=\s*(\d+)", requirement)
    assert minimum and int(minimum.group(1)) >= PEP639_SETUPTOOLS, requirement


@pytest.mark.slow
def test_wheel_metadata_names_the_gpl_program_it_ships(tmp_path):
    pytest.importorskip("setuptools")
    source = tmp_path / "src"  # a copy: pip builds in the source tree
    shutil.copytree(ROOT / "workbench_gym", source / "workbench_gym", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = zipfile.ZipFile(next(tmp_path.glob("workbench_gym-*.whl")))
    names = wheel.namelist()
    assert "workbench_gym/synth_data/blender/render_scene.py" in names
    assert "GPL" in wheel.read("workbench_gym/synth_data/blender/render_scene.py").decode()[:2000]
    metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0 AND GPL-3.0-only" in metadata
    licence_files = [n for n in names if "/licenses/" in n]
    assert any(n.endswith("licenses/LICENSE") for n in licence_files)
    assert any(n.endswith("licenses/workbench_gym/synth_data/blender/LICENSE") for n in licence_files)
