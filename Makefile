# Two commands set everything up: `make demo` (a planned episode -> video + summary) and `make test`.
# The demo's planner is the VLM planner with the native (offline) backend: camera frames + instruction -> actions.
# Each creates .venv with Python 3.11 when needed and installs the project into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
OUT := out

.PHONY: demo test bench docs learning-curve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch comes first, pinned to the CPU wheel: a bare requirement would pull a multi-GB CUDA build.
TORCH ?= torch==2.13.0

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	touch $@

demo: $(VENV)/.installed-video $(VENV)/.installed-vlm
	$(BIN)/workbench-gym rollout --task FetchTool-v0 --planner vlm --backend native --episodes 1 --seed 1 \
		--video $(OUT)/demo.mp4 --summary $(OUT)/demo_summary.json
	@echo "wrote $(OUT)/demo.mp4 and $(OUT)/demo_summary.json"

# robomimic's loader reads our HDF5 in the tests; robomimic 0.3.0 pins torchvision (which would pull another torch)
# and egl_probe, and its dataset code needs neither: installed without its dependencies.
$(VENV)/.installed-loaders: | $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet --no-deps robomimic==0.3.0 termcolor
	touch $@

test: $(VENV)/.installed-test $(VENV)/.installed-loaders
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto -q

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/env_speed.py --out benchmarks/results/env_speed.json
	$(BIN)/python benchmarks/oracle_success.py --episodes 200 --out benchmarks/results/oracle_success.json
	$(BIN)/python benchmarks/grasp_success.py --tries 100 --out benchmarks/results/grasp_success.json --markdown docs/grasping.md
	$(BIN)/python benchmarks/step_profile.py --out benchmarks/results/step_profile.json
	$(BIN)/python benchmarks/run_all.py --out benchmarks/results/all.json --markdown docs/benchmarks.md

docs: $(VENV)/.installed-video
	$(BIN)/python scripts/make_docs_images.py

# PPO on ReachTool (one tool, state obs): benchmarks/results/learning_curve.json and docs/images/learning_curve.png.
learning-curve: $(VENV)/.installed-rl
	$(BIN)/python scripts/learning_curve.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
