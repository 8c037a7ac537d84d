"""`EnvConfig`: every knob of a `WorkbenchEnv`, filled by `gym.make(**kwargs)` and the CLI alike."""

from __future__ import annotations

import math
import os
import sys
import warnings
from dataclasses import dataclass, field, fields, replace

from workbench_gym.envs.controllers import CONTROLLERS
from workbench_gym.scenes.catalog import TOOLS
from workbench_gym.scenes.perturb import FACTORS, check_factors
from workbench_gym.scenes.sampler import MAX_TOOLS
from workbench_gym.scenes.spec import image_size_problem
from workbench_gym.sim.world import RENDERERS, RESET_MODES, SimConfig

OBS_MODES = ("state", "rgb", "rgbd", "rgbd_seg")
CONTROL_MODES = (*CONTROLLERS, "primitive")  # low-level controllers by name, then high-level actions
REWARD_MODES = ("dense", "sparse")
INSTRUCTION_SPLITS = ("train", "test")
VARIANT_SPLITS = ("seen", "unseen")
RENDER_MODES = ("rgb_array", "human")
CAMERAS = ("front", "overhead", "wrist")


class HeadlessWarning(UserWarning):
    """render_mode="human" was asked for where no display is: the env runs without its window."""


def has_display() -> bool:
    """Whether PyBullet's GUI can open a window: on Linux it needs an X display (DISPLAY)."""
    return not sys.platform.startswith("linux") or bool(os.environ.get("DISPLAY"))


@dataclass(frozen=True)
class EnvConfig:
    """Observation, control, camera and physics settings of one environment.

    `image_size` is (width, height) of observation cameras; `render_size` that of
    `render()` frames; each at most `MAX_IMAGE_SIDE` (4096) per side and `MAX_IMAGE_PIXELS` in all.
    A low-level env step lasts 1 / `control_freq` seconds of simulated time;
    with `control_mode="primitive"` one step runs one whole high-level action.
    `reward_mode` "dense" gives staged shaping, "sparse" only success (see `Task.reward`).
    `instruction_split` picks disjoint phrasings ("train" / "test"); `variant_split` "unseen"
    makes goals use tool variants (size, colour) held out of "seen".
    `renderer` "egl" renders cameras on a GPU where one is present (else TinyRenderer, with a
    warning); it overrides `sim.renderer`. `reset_mode` "reuse" keeps the simulation and its bodies
    between episodes, 2-8x faster to reset, bit-exact in our env tests but not guaranteed after every
    history; "rebuild" (the default) guarantees it (see `SimConfig` and docs/speed.md). It overrides
    `sim.reset_mode`. Each field's metadata (choices, help) makes its command-line option
    (`workbench_gym.env_options`), so every command takes the options `gym.make` takes.
    `perturb` names perturbation factors (`scenes.perturb.FACTORS`: lighting, bench, camera, clutter,
    tool_colour, physics) drawn from each scene's seed; none by default. `swap_target` trades the
    places of the tool the instruction names and another tool after the goal is chosen (tasks that
    name one tool). `goal_categories` limits goals to those catalog categories (tasks that name one tool).
    """

    obs_mode: str = field(default="state", metadata={"choices": OBS_MODES, "help": "what observations hold"})
    control_mode: str = field(default="ee_delta", metadata={"choices": CONTROL_MODES, "help": "what an action is"})
    render_mode: str | None = field(default=None, metadata={"choices": RENDER_MODES, "help": "what render() gives"})
    cameras: tuple[str, ...] = field(default=("front", "wrist"), metadata={"choices": CAMERAS, "help": "observation cameras"})
    image_size: tuple[int, int] = field(default=(128, 128), metadata={"metavar": ("W", "H"), "help": "observation image size"})
    render_size: tuple[int, int] = field(default=(320, 240), metadata={"metavar": ("W", "H"), "help": "render() frame size"})
    n_tools: int = field(default=12, metadata={"help": f"tools on the bench, 1-{MAX_TOOLS}"})
    density: float = field(default=0.35, metadata={"help": "how tightly tools are packed, in (0, 1]"})
    control_freq: float = field(default=25.0, metadata={"help": "env steps per simulated second (Hz)"})
    reward_mode: str = field(default="dense", metadata={"choices": REWARD_MODES, "help": "low-level reward"})
    instruction_split: str = field(default="train", metadata={"choices": INSTRUCTION_SPLITS, "help": "instruction phrasings"})
    variant_split: str = field(default="seen", metadata={"choices": VARIANT_SPLITS, "help": "tool variants goals use"})
    renderer: str = field(default="tiny", metadata={"choices": RENDERERS, "help": "what draws camera frames"})
    perturb: tuple[str, ...] = field(default=(), metadata={"choices": FACTORS, "help": "perturbation factors, drawn from each scene's seed"})
    swap_target: bool = field(default=False, metadata={"help": "trade the named tool's place with another's after the goal is chosen"})
    goal_categories: tuple[str, ...] = field(default=(), metadata={"choices": tuple(TOOLS), "help": "goals only of these tool categories"})
    reset_mode: str = field(default="rebuild", metadata={"choices": RESET_MODES, "help": "rebuild: a fresh simulation per reset (bit-exact); reuse: keep bodies (faster)"})
    sim: SimConfig = field(default_factory=SimConfig)

    def __post_init__(self):
        def bad(name, value, expected):
            raise ValueError(f"{name}={value!r} is not supported; expected {expected}")

        if self.obs_mode not in OBS_MODES:
            bad("obs_mode", self.obs_mode, f"one of {OBS_MODES}")
        if self.control_mode not in CONTROL_MODES:
            bad("control_mode", self.control_mode, f"one of {CONTROL_MODES}")
        if self.reward_mode not in REWARD_MODES:
            bad("reward_mode", self.reward_mode, f"one of {REWARD_MODES}")
        if self.instruction_split not in INSTRUCTION_SPLITS:
            bad("instruction_split", self.instruction_split, f"one of {INSTRUCTION_SPLITS}")
        if self.variant_split not in VARIANT_SPLITS:
            bad("variant_split", self.variant_split, f"one of {VARIANT_SPLITS}")
        if self.render_mode is not None and self.render_mode not in RENDER_MODES:
            bad("render_mode", self.render_mode, f"None or one of {RENDER_MODES}")
        if isinstance(self.cameras, str):
            bad("cameras", self.cameras, f"a tuple of distinct names from {CAMERAS}, e.g. ('front',)")
        object.__setattr__(self, "cameras", tuple(self.cameras))
        if not self.cameras or any(c not in CAMERAS for c in self.cameras) or len(set(self.cameras)) != len(self.cameras):
            bad("cameras", self.cameras, f"distinct names from {CAMERAS}")
        object.__setattr__(self, "perturb", check_factors(self.perturb))
        if not isinstance(self.swap_target, bool):
            bad("swap_target", self.swap_target, "True or False")
        object.__setattr__(self, "goal_categories", (self.goal_categories,) if isinstance(self.goal_categories, str) else tuple(self.goal_categories))
        if any(c not in TOOLS for c in self.goal_categories):
            bad("goal_categories", self.goal_categories, f"catalog tool categories from {sorted(TOOLS)}")
        for name in ("image_size", "render_size"):
            problem = image_size_problem(getattr(self, name))
            if problem:
                bad(name, getattr(self, name), f"(width, height): {problem}")
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not _is_int(self.n_tools) or not 1 <= self.n_tools <= MAX_TOOLS:
            bad("n_tools", self.n_tools, f"an integer in [1, {MAX_TOOLS}]")
        if not _is_number(self.density) or not 0 < self.density <= 1:
            bad("density", self.density, "a number in (0, 1]")
        if not _is_number(self.control_freq):
            bad("control_freq", self.control_freq, "a number of Hz")
        substeps = 1.0 / (self.control_freq * self.sim.timestep) if self.control_freq > 0 else 0
        if substeps < 1 or abs(substeps - round(substeps)) > 1e-6:
            bad("control_freq", self.control_freq, f"a positive divisor of the physics rate {1 / self.sim.timestep:g} Hz")
        gui = self.sim.gui or self.render_mode == "human"
        if gui and not has_display():
            # As renderer="egl" does without a GPU: keep working headless (env checkers try every render mode).
            warnings.warn("render_mode='human' needs a display and none is set (DISPLAY); running headless, "
                          "render() returns None", HeadlessWarning, stacklevel=4)
            gui = False
        if (gui, self.renderer, self.reset_mode) != (self.sim.gui, self.sim.renderer, self.sim.reset_mode):
            object.__setattr__(self, "sim", replace(self.sim, gui=gui, renderer=self.renderer, reset_mode=self.reset_mode))

    @property
    def substeps(self) -> int:
        """Physics steps per env step."""
        return round(1.0 / (self.control_freq * self.sim.timestep))

    @classmethod
    def from_kwargs(cls, **kwargs) -> EnvConfig:
        """Build from keyword arguments, naming any that are unknown."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(f"unknown environment option(s) {unknown}; expected some of {sorted(known)}")
        return cls(**kwargs)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
