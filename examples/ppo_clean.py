"""PPO for continuous actions in one readable file, CleanRL style (after cleanrl/ppo_continuous_action.py).

    python examples/ppo_clean.py --task ReachTool --n-tools 1 --total-timesteps 100000 --save runs/ppo_clean.pt

Copy it and change what you like. Observations are workbench-gym state observations flattened into
one vector (`make_rl_env`); actions are `ee_delta` steps in [-1, 1]; the reward is the task's dense
reward in [-1, 0]. Options are `Args`' fields, parsed by tyro as in CleanRL. Needs torch and tyro
(`pip install 'workbench-gym[rl]'`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import tyro
from torch.distributions.normal import Normal

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.wrappers import make_rl_env


@dataclass
class Args:
    """PPO on a workbench-gym task (state observations, ee_delta actions)."""

    task: str = "ReachTool"
    n_tools: int = 1
    seed: int = 0
    total_timesteps: int = 100_000
    num_envs: int = 4
    num_steps: int = 256  # steps per env per rollout
    learning_rate: float = 3e-4
    anneal_lr: bool = True
    gamma: float = 0.95
    gae_lambda: float = 0.95
    num_minibatches: int = 16
    update_epochs: int = 10
    clip_coef: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    save: str = ""  # path of the state dict to write at the end


def make_env(args: Args):
    def thunk():
        env = make_rl_env(args.task, n_tools=args.n_tools)
        return gym.wrappers.RecordEpisodeStatistics(env)

    return thunk


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias: float = 0.0) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


class Agent(nn.Module):
    """Separate actor and critic MLPs; a state-independent log standard deviation."""

    def __init__(self, obs_size: int, action_size: int):
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_size, 64)), nn.Tanh(), layer_init(nn.Linear(64, 64)), nn.Tanh(), layer_init(nn.Linear(64, 1), std=1.0),
        )
        self.actor_mean = nn.Sequential(
            layer_init(nn.Linear(obs_size, 64)), nn.Tanh(), layer_init(nn.Linear(64, 64)), nn.Tanh(), layer_init(nn.Linear(64, action_size), std=0.01),
        )
        self.actor_logstd = nn.Parameter(torch.zeros(1, action_size))

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x)

    def get_action_and_value(self, x: torch.Tensor, action: torch.Tensor | None = None):
        mean = self.actor_mean(x)
        probs = Normal(mean, self.actor_logstd.expand_as(mean).exp())
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(x)


def train(args: Args) -> tuple[Agent, dict]:
    """Run PPO; returns the agent and per-update statistics (losses, episode returns, successes)."""
    batch_size = args.num_envs * args.num_steps
    num_iterations = max(1, args.total_timesteps // batch_size)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    # SAME_STEP: a finished env resets within the step that ends it, as the update below assumes.
    envs = gym.vector.SyncVectorEnv([make_env(args) for _ in range(args.num_envs)], autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    obs_size, action_size = envs.single_observation_space.shape[0], envs.single_action_space.shape[0]
    low, high = envs.single_action_space.low, envs.single_action_space.high
    agent = Agent(obs_size, action_size)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    obs = torch.zeros((args.num_steps, args.num_envs, obs_size))
    actions = torch.zeros((args.num_steps, args.num_envs, action_size))
    logprobs, rewards, dones, values = (torch.zeros((args.num_steps, args.num_envs)) for _ in range(4))

    stats = {"policy_loss": [], "value_loss": [], "episode_return": [], "success": [], "timesteps": []}
    global_step, start = 0, time.time()
    next_obs, _ = envs.reset(seed=[int(s) for s in rng.integers(2**31, size=args.num_envs)])
    next_obs, next_done = torch.tensor(next_obs, dtype=torch.float32), torch.zeros(args.num_envs)

    for iteration in range(1, num_iterations + 1):
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        returns_seen, successes_seen = [], []
        for step in range(args.num_steps):
            global_step += args.num_envs
            obs[step], dones[step] = next_obs, next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
            values[step], actions[step], logprobs[step] = value.flatten(), action, logprob
            next_obs, reward, terminated, truncated, infos = envs.step(np.clip(action.numpy(), low, high))
            rewards[step] = torch.tensor(reward, dtype=torch.float32)
            finished = np.logical_or(terminated, truncated)
            next_obs, next_done = torch.tensor(next_obs, dtype=torch.float32), torch.tensor(finished, dtype=torch.float32)
            if "final_info" in infos:  # the finished episodes' last info
                final = infos["final_info"]
                for i in np.flatnonzero(final["_episode"]):
                    returns_seen.append(float(final["episode"]["r"][i]))
                    successes_seen.append(bool(final["is_success"][i]))

        # Generalised advantage estimation, bootstrapping from the value of the last observation.
        with torch.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            lastgaelam = 0
            for t in reversed(range(args.num_steps)):
                next_nonterminal = 1.0 - (next_done if t == args.num_steps - 1 else dones[t + 1])
                next_values = next_value if t == args.num_steps - 1 else values[t + 1]
                delta = rewards[t] + args.gamma * next_values * next_nonterminal - values[t]
                advantages[t] = lastgaelam = delta + args.gamma * args.gae_lambda * next_nonterminal * lastgaelam
            returns = advantages + values

        b_obs, b_actions = obs.reshape(-1, obs_size), actions.reshape(-1, action_size)
        b_logprobs, b_advantages, b_returns = logprobs.reshape(-1), advantages.reshape(-1), returns.reshape(-1)
        for _ in range(args.update_epochs):
            for mb in np.split(rng.permutation(batch_size), args.num_minibatches):
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb], b_actions[mb])
                ratio = (newlogprob - b_logprobs[mb]).exp()
                mb_adv = b_advantages[mb]
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = torch.max(-mb_adv * ratio, -mb_adv * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)).mean()
                v_loss = 0.5 * ((newvalue.view(-1) - b_returns[mb]) ** 2).mean()
                loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

        stats["policy_loss"].append(pg_loss.item())
        stats["value_loss"].append(v_loss.item())
        stats["episode_return"].append(float(np.mean(returns_seen)) if returns_seen else float("nan"))
        stats["success"].append(float(np.mean(successes_seen)) if successes_seen else float("nan"))
        stats["timesteps"].append(global_step)
        print(
            f"step {global_step:>7}  return {stats['episode_return'][-1]:7.2f}  success {stats['success'][-1]:.2f}  "
            f"value loss {v_loss.item():.3f}  {global_step / (time.time() - start):.0f} steps/s"
        )
    envs.close()
    if args.save:
        torch.save({"args": asdict(args), "obs_size": obs_size, "action_size": action_size, "state_dict": agent.state_dict()}, args.save)
    return agent, stats


def load_agent(path: str) -> Agent:
    """The agent `train` saved at `path`."""
    saved = torch.load(path, weights_only=True)
    agent = Agent(saved["obs_size"], saved["action_size"])
    agent.load_state_dict(saved["state_dict"])
    return agent


if __name__ == "__main__":
    train(tyro.cli(Args))  # every field of Args is an option: --n-tools 3, --no-anneal-lr, ... (as CleanRL does)
