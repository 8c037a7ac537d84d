"""`benchmarks/gpu_all.py --quick` runs on any machine: it measures what it can and says why it skipped the rest."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import gpu_all  # noqa: E402


def test_quick_run_measures_what_it_can_and_names_what_it_skipped(tmp_path):
    out, table = tmp_path / "gpu.json", tmp_path / "gpu.md"
    gpu_all.main(["--quick", "--seconds", "0.3", "--out", str(out), "--markdown", str(table)])

    result = json.loads(out.read_text())
    state = result["state_steps"]
    assert state["processes"] == 2 and len(state["per_process"]) == 2 and all(rate > 0 for rate in state["per_process"])
    assert result["egl"]["tinyrenderer_fps_128_one_process"] > 0
    sections = {"egl": result["egl"], "blenderproc_gpu": result["blenderproc_gpu"], "ppo_cuda": result["ppo_cuda"]}
    if gpu_all.egl_unavailable() is not None:
        assert result["egl"]["skipped"].startswith("EGL not measured: ")
    else:
        assert result["egl"]["egl_fps_128_one_process"] > 0
    for name, section in sections.items():
        assert "skipped" in section or any(isinstance(v, (int, float, dict)) for v in section.values()), name

    text = table.read_text()
    assert text.startswith("## GPU and many cores")
    assert "| PickTool state steps, 20 tools, 2 processes |" in text
    for section in sections.values():
        if "skipped" in section:
            assert f"- {section['skipped']}" in text
