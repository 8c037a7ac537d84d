"""Run a planner for whole episodes of a task, optionally recording a video and a JSON summary."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import gymnasium as gym

from workbench_gym.envs.registration import env_id
from workbench_gym.policies import PLANNERS


@dataclass
class EpisodeResult:
    seed: int
    instruction: str
    steps: int
    episode_return: float
    success: bool
    sim_time: float


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


def _video_writer(path: Path, fps: float):
    try:
        import imageio.v2 as imageio
    except ImportError:
        raise SystemExit("writing videos needs imageio: pip install 'workbench-gym[video]'") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".gif":
        return imageio.get_writer(path, mode="I", duration=1000 / fps, loop=0)
    return imageio.get_writer(path, fps=fps, macro_block_size=1)


def _progress(total: int, enabled: bool):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="episode", disable=not enabled)


def rollout(
    task: str, planner: str = "random", episodes: int = 1, seed: int = 0, video: str | Path | None = None,
    progress: bool = True, **env_options,
) -> RolloutSummary:
    """Run `episodes` episodes (seeds seed, seed+1, ...) and return what happened."""
    if planner not in PLANNERS:
        raise ValueError(f"unknown planner {planner!r}; expected one of {sorted(PLANNERS)}")
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    make_planner, control_mode = PLANNERS[planner]
    if control_mode:
        env_options.setdefault("control_mode", control_mode)
    env = gym.make(env_id(task), render_mode="rgb_array" if video else None, **env_options)
    agent = make_planner(env, seed)
    summary = RolloutSummary(task, planner, video=str(video) if video else None)
    writer = _video_writer(Path(video), env.metadata["render_fps"]) if video else None
    bar = _progress(episodes, progress)
    start = time.perf_counter()
    try:
        for i in range(episodes):
            obs, info = env.reset(seed=seed + i)
            agent.reset(obs["instruction"])
            total, steps, done = 0.0, 0, False
            while not done:
                if writer:
                    writer.append_data(env.render())
                obs, reward, terminated, truncated, info = env.step(agent.act(obs))
                total, steps, done = total + reward, steps + 1, terminated or truncated
            summary.episodes.append(EpisodeResult(seed + i, obs["instruction"], steps, total, bool(info["is_success"]), info["sim_time"]))
            if bar:
                bar.update()
    finally:
        summary.wall_seconds = time.perf_counter() - start
        if writer:
            writer.close()
        if bar:
            bar.close()
        env.close()
    return summary


def write_summary(summary: RolloutSummary, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary.to_dict(), indent=2))
