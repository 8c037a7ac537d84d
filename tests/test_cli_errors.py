"""Bad input on the command line: one clear line on stderr and exit code 2, before any work, never a traceback."""

import errno
import json
import os
import subprocess
import sys
import time

import pytest

from workbench_gym.cli import main


def one_line(capsys_or_fd) -> str:
    err = capsys_or_fd.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


def exits(argv) -> int:
    """main's exit code, whether argparse exits or the command returns."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


@pytest.fixture
def blocked(tmp_path):
    """A path nobody can create files under, root included: its parent is a regular file."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    return blocker / "sub"


@pytest.mark.parametrize("argv, words", [
    (["render", "--seed", "-1", "--out", "x.png"], ["--seed", "non-negative"]),
    (["rollout", "--episodes", "0"], ["--episodes", "positive"]),
    (["eval", "--task", "PickTool", "--out", "x.json", "--planner", "oracle", "--option", "nonsense=1"], ["--option", "oracle"]),
    (["rollout", "--planner", "vlm", "--option", "nonsense=1"], ["nonsense", "native backend"]),
    (["eval", "--task", "PickTool", "--out", "x.json", "--option", "nonsense=1"], ["nonsense", "native backend"]),
    (["rollout", "--planner", "genius"], ["unknown planner 'genius'", "oracle"]),
    (["rollout", "--density", "2"], ["density"]),
    (["rollout", "--obs-mode", "x-ray"], ["--obs-mode", "invalid choice"]),
])
def test_bad_arguments_are_one_line_errors(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    assert exits(argv) == 2
    line = one_line(capsys)
    assert all(w in line for w in words), line
    assert time.monotonic() - start < 20, "refused before any episode ran"


def test_dataset_preview_with_zero_columns_is_one_line(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    from workbench_gym.synth_data.generate import generate
    from workbench_gym.synth_data.randomize import SynthConfig

    generate(SynthConfig(scenes=1, seed=2, size=32, scenes_per_shard=1), tmp_path / "ds", progress=False)
    assert exits(["dataset", "preview", str(tmp_path / "ds"), "--out", str(tmp_path / "grid.png"), "--columns", "0"]) == 2
    line = one_line(capsys)
    assert "--columns" in line and "positive" in line
    assert main(["dataset", "preview", str(tmp_path / "ds"), "--out", str(tmp_path / "grid.png"), "--columns", "2"]) == 0


def test_unwritable_outputs_are_refused_before_any_work(blocked, capsys, monkeypatch):
    import workbench_gym.rollout as rollout_module

    monkeypatch.setattr(rollout_module, "rollout", lambda *a, **k: pytest.fail("episodes ran before the paths were checked"))
    assert main(["render", "--out", str(blocked / "x.png")]) == 2
    assert "--out" in one_line(capsys)
    assert main(["rollout", "--video", str(blocked / "x.mp4")]) == 2
    assert "--video" in one_line(capsys)
    assert main(["eval", "--task", "PickTool", "--planner", "oracle", "--out", str(blocked / "r.json")]) == 2
    assert "--out" in one_line(capsys)
    assert main(["export-usd", "--out", str(blocked / "s.usda")]) == 2
    assert "--out" in one_line(capsys)


def test_rollout_summary_that_is_a_directory_fails_before_the_episodes(tmp_path, capsys, monkeypatch):
    import workbench_gym.rollout as rollout_module

    monkeypatch.setattr(rollout_module, "rollout", lambda *a, **k: pytest.fail("episodes ran before --summary was checked"))
    assert main(["rollout", "--episodes", "3", "--summary", str(tmp_path)]) == 2
    line = one_line(capsys)
    assert "--summary" in line and "directory" in line


def test_rollout_passes_backend_options(monkeypatch, capsys):
    """`rollout --option KEY=VALUE` reaches the backend, as the docs say of every command."""
    import workbench_gym.policies.backends as backends

    class Answering:  # sees nothing, answers every question the same
        name = "answering"

        def ground(self, view, phrase):
            return []

        def answer(self, view, question):
            return "three"

        def plan(self, view, instruction):
            return None

    built = []
    monkeypatch.setattr(backends, "make_backend", lambda name, **options: built.append((name, options)) or Answering())
    argv = ["rollout", "--task", "CountTools", "--planner", "vlm", "--option", "cache_frames=3", "--n-tools", "3", "--quiet"]
    assert main(argv) == 0
    assert built == [("native", {"cache_frames": 3})]
    assert json.loads(capsys.readouterr().out)["planner"] == "vlm"


def test_generate_on_a_full_disk_is_one_line_and_keeps_what_was_written(tmp_path, capsys, monkeypatch):
    pytest.importorskip("pyarrow")
    import workbench_gym.synth_data.generate as generate_module
    from workbench_gym.synth_data import open_dataset
    from workbench_gym.synth_data.randomize import SynthConfig
    from workbench_gym.synth_data.storage import Manifest

    out = tmp_path / "ds"
    argv = ["generate", "--scenes", "4", "--scenes-per-shard", "2", "--size", "32", "--seed", "3", "--out", str(out), "--quiet"]
    real = generate_module.write_atomic

    def filling(path, data, sync=False):  # the disk fills up when the second shard's files (scenes 2, 3) are written
        if path.name.startswith("000002") or path.name.endswith("-00001.parquet"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data, sync)

    monkeypatch.setattr(generate_module, "write_atomic", filling)
    assert main(argv) == 2
    assert "No space left on device" in one_line(capsys)
    kept = Manifest.load(out)
    assert sorted(kept.shards) == ["00000"], "the finished shard stays recorded"
    monkeypatch.setattr(generate_module, "write_atomic", real)
    assert main(argv) == 0, "the same command finishes the dataset"
    assert len(open_dataset(out)) == 4 * SynthConfig().views_per_scene


def _without(module: str, argv: list[str]) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh interpreter where `module` cannot be imported (as if its extra were not installed)."""
    code = f"import sys; sys.modules[{module!r}] = None; from workbench_gym.cli import main; sys.exit(main({argv!r}))"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("module, argv, extra", [
    ("torch", ["rollout", "--planner", "vlm", "--quiet"], "vlm"),
    ("torch", ["eval", "--task", "PickTool", "--out", "OUT/r.json", "--quiet"], "vlm"),
    ("transformers", ["eval", "--backend", "hf", "--option", "model=OUT/m", "--task", "PickTool", "--out", "OUT/r.json", "--quiet"], "vlm"),
    ("h5py", ["record", "--format", "hdf5", "--out", "OUT/demos", "--quiet"], "rl"),
    ("fastapi", ["serve", "--port", "0"], "serve"),
])
def test_a_missing_extra_names_its_pip_install_before_any_work(module, argv, extra, tmp_path):
    argv = [a.replace("OUT", str(tmp_path)) for a in argv]
    start = time.monotonic()
    run = _without(module, argv)
    assert run.returncode == 2, run.stderr[-2000:]
    lines = [line for line in run.stderr.splitlines() if "workbench-gym" in line]
    assert len(lines) == 1 and f"pip install 'workbench-gym[{extra}]'" in lines[0] and "Traceback" not in run.stderr
    assert time.monotonic() - start < 60
    assert not (tmp_path / "demos").exists() or not any((tmp_path / "demos").iterdir())


def test_every_env_command_takes_the_env_options(capsys):
    """Declared once, from EnvConfig: --obs-mode, --density, --n-tools and the splits on every command that makes an env."""
    from workbench_gym.cli import build_parser

    parser = build_parser()
    for command in ("render", "rollout", "export-usd", "eval"):
        sub = parser._subparsers._group_actions[0].choices[command]
        options = {o for action in sub._actions for o in action.option_strings}
        assert {"--n-tools", "--density", "--instruction-split", "--variant-split", "--renderer"} <= options, command
    rollout = parser._subparsers._group_actions[0].choices["rollout"]
    assert {"--obs-mode", "--control-mode", "--cameras", "--image-size", "--reward-mode"} <= {
        o for action in rollout._actions for o in action.option_strings}
