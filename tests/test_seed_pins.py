"""The scene and goal of every seed stay what they were: hashes pinned before the fast-reset work (commit e7f1d92).

Other work depends on the goals of seeds 100000+, so a change to sampling, scene building or reset
order that moved a scene or a goal must fail here. Only the spec and goal fields that existed when
the pins were taken are hashed, so fields added later (per-episode perturbations, SortTools'
`any_bins`) leave the pins standing.
"""

import hashlib
import json

import gymnasium as gym
import pytest

import workbench_gym  # noqa: F401  (registers the envs)

#: "task options-as-JSON seed" -> (hash of the spec's pinned fields, hash of info["goal"]).
PINS = {
    'ClarifyTool {} 0': ('e874cf178efc6838', 'ace0efe8fc13fada'),
    'ClarifyTool {} 5': ('7933ab50c6c5265b', '1c9ac5029842de26'),
    'ClarifyTool {} 100000': ('0e92824c20a2a6b2', '96a67dc7f57a13e5'),
    'ClarifyTool {} 100007': ('fb9f3014fc68d44d', '96a67dc7f57a13e5'),
    'CollectScrews {} 0': ('6629fc6ebcff687a', '81fde153bbe25bcb'),
    'CollectScrews {} 5': ('5367408e33526a2c', '8182107e65985ebc'),
    'CollectScrews {} 100000': ('81f8dd94d2a79d40', '5db4939d3845a506'),
    'CollectScrews {} 100007': ('e8e4301158686be6', '3ea39d251a8d54d9'),
    'CountTools {} 0': ('7497ae8405876a5f', '4982cbe8ee1a6928'),
    'CountTools {} 5': ('85167cb27a3bc42e', '7a47c422169b1a56'),
    'CountTools {} 100000': ('684dcefcf5bfe55b', 'cdb4944dd2864e6f'),
    'CountTools {} 100007': ('d03eeedaaf8e372c', 'a6eb699fced9ca1f'),
    'FetchTool {} 0': ('3c60447bd0bad846', '802e736a9a06d68f'),
    'FetchTool {} 5': ('91453cd56cc24a37', '4336dd5c90123e50'),
    'FetchTool {} 100000': ('ea052785ecf05771', 'fc6de1867b5adf37'),
    'FetchTool {} 100007': ('efc126325a61be82', 'fc6de1867b5adf37'),
    'PickTool {} 0': ('7497ae8405876a5f', '161f1f5f853df2bf'),
    'PickTool {} 5': ('85167cb27a3bc42e', '042fee66d170707e'),
    'PickTool {} 100000': ('684dcefcf5bfe55b', '348aa7d63c87c52e'),
    'PickTool {} 100007': ('d03eeedaaf8e372c', '52cfeb8b9dd23091'),
    'PlaceTool {} 0': ('7497ae8405876a5f', 'c6c03956c9910bd7'),
    'PlaceTool {} 5': ('85167cb27a3bc42e', 'b8caf46ea3b5263e'),
    'PlaceTool {} 100000': ('684dcefcf5bfe55b', 'afa9445b77a31fbe'),
    'PlaceTool {} 100007': ('d03eeedaaf8e372c', 'f58189e3350156c5'),
    'ReachTool {} 0': ('7497ae8405876a5f', '161f1f5f853df2bf'),
    'ReachTool {} 5': ('85167cb27a3bc42e', '042fee66d170707e'),
    'ReachTool {} 100000': ('684dcefcf5bfe55b', '348aa7d63c87c52e'),
    'ReachTool {} 100007': ('d03eeedaaf8e372c', '52cfeb8b9dd23091'),
    'SortTools {} 0': ('29f67784c94c18ba', '5d6e763f33bda1d9'),
    'SortTools {} 5': ('b659cbf0e3982d79', '5de2b18eb9dd75c5'),
    'SortTools {} 100000': ('dbbad01dd7b7993e', 'b9ed5020281e2dd3'),
    'SortTools {} 100007': ('c4a5f249362efc7d', '32e5635d7b063077'),
    'PickTool {"n_tools": 20} 1': ('9a9ba451b9309915', '96d345a10cc51764'),
    'PickTool {"n_tools": 20} 100001': ('f7124718f2538af7', 'b441d4ddc316ec33'),
    'PickTool {"variant_split": "unseen"} 2': ('4077719d05953e31', '7a1101c6e3c11cdd'),
    'PickTool {"variant_split": "unseen"} 100002': ('82f031ad5420db62', 'd6b0523bc29bfba7'),
    'ReachTool {"n_tools": 1} 3': ('0a22f2de3dbd0ec1', '563e30a2962d1e29'),
    'ReachTool {"n_tools": 1} 100003': ('4a2097079dd80ad5', '8fd71f50253b3e1f'),
    'SortTools {"density": 0.5, "n_tools": 20} 4': ('26a85f09cfe23570', '3e7dc080aecb423c'),
    'SortTools {"density": 0.5, "n_tools": 20} 100004': ('0252422549c244c1', '6f51f17a96f686ea'),
}
SPEC_KEYS = {
    "bench": ("size", "center", "height", "colour"),
    "object": ("name", "category", "size", "colour", "pose"),
    "camera": ("name", "eye", "target", "up", "width", "height", "fov", "near", "far", "mount"),
    "light": ("direction", "colour", "ambient", "diffuse", "specular", "shadow"),
}


def pinned_view(spec: dict) -> dict:
    """The spec's fields as of the pins, in a fixed layout."""
    def pick(d, kind):
        return {key: d[key] for key in SPEC_KEYS[kind]}

    return {"bench": pick(spec["bench"], "bench"), "tools": [pick(o, "object") for o in spec["tools"]],
            "containers": [pick(o, "object") for o in spec["containers"]], "cameras": [pick(c, "camera") for c in spec["cameras"]],
            "lights": [pick(light, "light") for light in spec["lights"]], "seed": spec["seed"]}


#: Keys added to `info["goal"]` after the pins were taken (SortTools says how a caller's sentence is scored); left out.
GOAL_KEYS_ADDED_LATER = ("any_bins",)


def pinned_goal(goal: dict) -> dict:
    """The goal's fields as of the pins."""
    return {key: value for key, value in goal.items() if key not in GOAL_KEYS_ADDED_LATER}


def short_hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def _cases() -> list[tuple[str, str, list[tuple[int, tuple[str, str]]]]]:
    grouped: dict[tuple[str, str], list] = {}
    for key, pin in PINS.items():
        task, rest = key.split(" ", 1)
        options, seed = rest.rsplit(" ", 1)
        grouped.setdefault((task, options), []).append((int(seed), pin))
    return [(task, options, seeds) for (task, options), seeds in sorted(grouped.items())]


@pytest.mark.parametrize("task,options,seeds", _cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_scene_and_goal_of_each_seed_are_unchanged(task, options, seeds):
    env = gym.make(f"workbench_gym/{task}-v0", **json.loads(options))
    try:
        for seed, (spec_hash, goal_hash) in seeds:
            _, info = env.reset(seed=seed)
            assert short_hash(pinned_view(env.unwrapped.world.spec.to_dict())) == spec_hash, f"{task} seed {seed}: the scene changed"
            assert short_hash(pinned_goal(info["goal"])) == goal_hash, f"{task} seed {seed}: the goal changed"
    finally:
        env.close()
