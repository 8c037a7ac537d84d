"""Run a planner for whole episodes of a task, optionally recording a video and a JSON summary."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import gymnasium as gym

from workbench_gym.envs.high_level import decode
from workbench_gym.policies import PLANNERS
from workbench_gym.registration import env_id
from workbench_gym.video import VideoRecorder


@dataclass
class EpisodeResult:
    seed: int
    instruction: str
    steps: int
    episode_return: float
    success: bool
    sim_time: float
    progress: float | None = None  # partial credit at the end (high-level actions only)
    planner_log: dict | None = None  # what a planner that keeps one reports: decisions, timing, final report
    actions: list[dict] | None = None  # high-level actions only: verb, text, whether it ran and why not, what the hand held after
    goal: dict | None = None  # the reset's `info["goal"]`
    task_info: dict | None = None  # the last step's task-specific info (a chain's steps)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time: the episode's cost on a machine shared with other work


@dataclass
class RolloutSummary:
    task: str
    planner: str
    episodes: list[EpisodeResult] = field(default_factory=list)
    wall_seconds: float = 0.0
    video: str | None = None

    @property
    def success_rate(self) -> float:
        return sum(e.success for e in self.episodes) / max(len(self.episodes), 1)

    def to_dict(self) -> dict:
        steps = sum(e.steps for e in self.episodes)
        return {
            **asdict(self),
            "success_rate": self.success_rate,
            "steps_per_second": steps / self.wall_seconds if self.wall_seconds else None,
        }


def _progress(total: int, enabled: bool):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="episode", disable=not enabled)


def rollout(
    task: str, planner: str = "random", episodes: int = 1, seed: int = 0, video: str | Path | None = None,
    progress: bool = True, video_fps: float | None = None, planner_options: dict | None = None,
    instructions: list[str | dict] | None = None, **env_options,
) -> RolloutSummary:
    """Run `episodes` episodes (seeds seed, seed+1, ...) and return what happened.

    Videos play in real time at `video_fps` frames per simulated second (default: the control rate).
    `planner_options` go to the planner's factory (the VLM planner's `backend`, for one). `instructions`, one per
    episode, reword each episode's instruction (`reset(options={"instruction": ...})`; the goal stays the seed's): a
    sentence, or the reset options that hold one (`{"instruction": text, "goal_level": True}`).
    """
    if instructions is not None and len(instructions) != episodes:
        raise ValueError(f"got {len(instructions)} instructions for {episodes} episodes; expected one per episode")
    entry = PLANNERS[planner]
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    if entry.control_mode:
        env_options.setdefault("control_mode", entry.control_mode)
    for key, value in entry.env_options.items():
        env_options.setdefault(key, value)
    env = gym.make(env_id(task), render_mode="rgb_array" if video else None, **env_options)
    agent = entry.make(env, seed, **(planner_options or {}))
    summary = RolloutSummary(task, planner, video=str(video) if video else None)
    fps = video_fps or env.metadata["render_fps"]
    recorder = VideoRecorder(video, fps) if video else None
    world = env.unwrapped.world
    physics_per_frame = max(1, round(1.0 / (fps * world.config.timestep)))
    caption = {"top": "", "bottom": "", "filming": False}

    def film(w) -> None:  # frames inside a primitive; not while a reset settles the scene
        if caption["filming"] and w.physics_steps % physics_per_frame == 0:
            recorder.add(env.render(), caption["top"], caption["bottom"])

    if recorder:
        world.step_listeners.append(film)

    def started(obs, info) -> None:
        caption.update(top=obs["instruction"], bottom="", filming=True)

    def acting(action) -> None:
        decisions = getattr(agent, "decisions", None)  # a planner that logs why it acts gets its reason drawn too
        caption["bottom"] = describe(action) + (f" ({decisions[-1].reason})" if decisions else "")

    def acted(obs, info) -> None:
        caption["top"] = obs["instruction"]
        if "primitive" in info:
            outcome = "ok" if info["primitive"]["success"] else info["primitive"]["reason"]
            caption["bottom"] = f"{caption['bottom']} -> {outcome}"
            recorder.add(env.render(), caption["top"], caption["bottom"])

    hooks = {"on_reset": started, "on_action": acting, "on_step": acted} if recorder else {}
    bar = _progress(episodes, progress)
    start = time.perf_counter()
    try:
        for i in range(episodes):
            caption["filming"] = False
            options = None if not instructions else {"instruction": instructions[i]} if isinstance(instructions[i], str) else dict(instructions[i])
            summary.episodes.append(play_episode(env, agent, seed + i, options, **hooks))
            if bar:
                bar.update()
    finally:
        summary.wall_seconds = time.perf_counter() - start
        if recorder:
            recorder.close()
        if bar:
            bar.close()
        env.close()
    return summary


def play_episode(env: gym.Env, agent, seed: int, options: dict | None = None, on_reset=None, on_action=None, on_step=None) -> EpisodeResult:
    """One episode of `agent` in `env` from `reset(seed=seed, options=options)`, the one episode loop every runner uses.

    When the observation's instruction changes mid-episode (a chain's next step), the agent is reset with the new
    one. `on_reset(obs, info)`, `on_action(action)` and `on_step(obs, info)` let a caller watch (captions, videos).
    """
    start, cpu = time.perf_counter(), time.process_time()
    obs, info = env.reset(seed=seed, options=options)
    goal = info.get("goal")
    instruction = obs["instruction"]
    agent.reset(instruction)
    if on_reset:
        on_reset(obs, info)
    total, steps, done, actions = 0.0, 0, False, []
    while not done:
        action = agent.act(obs)
        if on_action:
            on_action(action)
        obs, reward, terminated, truncated, info = env.step(action)
        total, steps, done = total + reward, steps + 1, terminated or truncated
        if "primitive" in info:
            typed = decode(action)
            actions.append({"verb": info["primitive"]["verb"], "text": getattr(typed, "text", None), "ok": info["primitive"]["success"],
                            "reason": info["primitive"]["reason"], "held": info["primitive"]["held"]})
        if on_step:
            on_step(obs, info)
        if not done and obs["instruction"] != instruction:
            instruction = obs["instruction"]
            agent.reset(instruction)
    log = None
    if hasattr(agent, "finish"):  # a planner with a decisions log: its last look at the bench, then the log
        agent.finish(obs)
        log = agent.summary()
    extra = {k: v for k, v in info.items() if k not in ("is_success", "sim_time", "progress", "primitive")}
    return EpisodeResult(seed, obs["instruction"], steps, total, bool(info["is_success"]), info["sim_time"], info.get("progress"), log,
                         actions if actions else None, goal, extra or None, round(time.perf_counter() - start, 4),
                         round(time.process_time() - cpu, 4))


def describe(action) -> str:
    """A short caption of an action: "pick at (0.42, -0.10)", "answer: three" or low-level."""
    if isinstance(action, dict) and "verb" in action:
        typed = decode(action)
        name = type(typed).__name__.lower()
        if hasattr(typed, "pose"):
            return f"{name} at ({typed.pose[0]:.2f}, {typed.pose[1]:.2f})"
        return f"{name}: {typed.text}" if hasattr(typed, "text") else name
    return ""


def write_summary(summary: RolloutSummary, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary.to_dict(), indent=2))
