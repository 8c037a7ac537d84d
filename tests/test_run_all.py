"""`benchmarks/run_all.py --quick`: every section runs and writes valid JSON and a markdown table."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import run_all  # noqa: E402


def test_quick_run_writes_json_and_markdown(tmp_path):
    out, table = tmp_path / "results" / "all.json", tmp_path / "docs" / "benchmarks.md"
    run_all.main(["--quick", "--out", str(out), "--markdown", str(table)])

    result = json.loads(out.read_text())
    assert result["quick"] is True and result["machine"]["cpu_count"] >= 1
    rows = result["rows"]
    assert {r["section"] for r in rows} == {"env steps", "camera", "resets", "primitive episodes", "vector", "memory"}
    for row in rows:
        assert row["unit"] and row["measure"]
        if row["ours"] is None:
            assert row["note"].startswith("not measured"), row  # only EGL without a GPU may be missing
        else:
            assert row["ours"] > 0 or row["section"] == "memory", row
        if row["theirs"] is not None and row["ours"]:
            assert row["ratio"] is not None and abs(row["ratio"] - row["ours"] / row["theirs"]) <= 0.01 * row["ratio"]
    state = next(r for r in rows if r["section"] == "env steps" and "state, ee_delta" in r["measure"])
    assert state["target"] == ">= 2.0x"

    lines = table.read_text().splitlines()
    assert lines[0] == "# Benchmarks"
    body = [line for line in lines if line.startswith("| ") and not line.startswith("| section") and not line.startswith("| ---")]
    assert len(body) == len(rows)
    assert all(line.count("|") == 9 for line in body)
