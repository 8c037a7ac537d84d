"""The instruction reader on each paraphrase family (our own sentences, not the dev or test sets), garbled input, replies."""

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sentence_transformers")

import workbench_gym  # noqa: E402,F401  (registers the envs)
from workbench_gym.envs.high_level import Ask, Done, Pick, Place, decode  # noqa: E402
from workbench_gym.envs.task import TASKS  # noqa: E402
from workbench_gym.language.reader import read_instruction, read_reply  # noqa: E402
from workbench_gym.language.task import UNLISTED, StructuredTask, ToolReference  # noqa: E402

R = ToolReference
CASES = {
    "plain": [
        ("pick up the red hammer", StructuredTask("pick", R("claw_hammer", "red"))),
        ("put the black combination wrench in the middle bin", StructuredTask("place", R("combination_wrench", "black"), "middle bin")),
        ("bring me the smallest pliers", StructuredTask("fetch", R("pliers", order="smallest"))),
    ],
    "polite": [
        ("could you please lift the largest adjustable wrench?", StructuredTask("pick", R("adjustable_wrench", order="largest"))),
        ("would you mind putting the blue screwdriver in the green bin", StructuredTask("place", R("screwdriver", "blue"), "green bin")),
        ("kindly hand me the tape measure, thank you", StructuredTask("fetch", R("tape_measure"))),
    ],
    "indirect": [
        ("I'd like you to put the small flathead screwdriver into the right bin",
         StructuredTask("place", R("flathead_screwdriver", size="small"), "right bin")),
        ("I could really use the Allen key right now", StructuredTask("fetch", R("allen_key"))),
        ("what I want is the yellow pliers picked up off the bench", StructuredTask("pick", R("pliers", "yellow"))),
    ],
    "filler": [
        ("ok so, um, grab the leftmost needle-nose pliers", StructuredTask("pick", R("needle_nose_pliers", order="leftmost"))),
        ("right then, robot, pass me the wooden hammer", StructuredTask("fetch", R("claw_hammer", "wood"))),
    ],
    "trailing": [
        ("fetch the biggest wrench, I have a stuck nut to undo", StructuredTask("fetch", R("wrench", order="largest"))),
        ("put the silver nut in the parts tray, it's been rolling around all day",
         StructuredTask("place", R("nut", "silver"), "parts tray")),
    ],
    "question": [
        ("how many nuts have we got?", StructuredTask("count", R("nut", every=True))),
        ("what colour's the tape measure?", StructuredTask("colour_question", R("tape_measure"))),
        ("do we have any Allen keys on the bench?", StructuredTask("existence_question", R("allen_key"))),
        ("could you count the screwdrivers for me", StructuredTask("count", R("screwdriver", every=True))),
    ],
    "goal": [
        ("tidy up so each kind of tool has its own bin", StructuredTask("sort")),
        ("sort the tools: wrenches in the left bin, screwdrivers in the middle one and pliers on the right",
         StructuredTask("sort", groups=(("pliers", "right bin"), ("screwdriver", "middle bin"), ("wrench", "left bin")))),
        ("get every loose screw into the small-parts tray", StructuredTask("collect", R("screw", every=True), "parts tray")),
    ],
    "trade": [
        ("pass me the biggest spanner", StructuredTask("fetch", R("combination_wrench", order="largest"))),
        ("grab the crosshead screwdriver nearest the tray", StructuredTask("pick", R("phillips_screwdriver", relation="nearest_tray"))),
        ("chuck the hex key in the grey box", StructuredTask("place", R("allen_key"), "grey bin")),
    ],
    "size": [
        ("grab the tiny screw", StructuredTask("pick", R("screw", size="small"))),
        ("bring me the big red slip-joint pliers", StructuredTask("fetch", R("slip_joint_pliers", "red", "large"))),
    ],
    "reordered": [
        ("the blue spanner - put it in the right bin", StructuredTask("place", R("combination_wrench", "blue"), "right bin")),
        ("that orange tape measure, could you lift it?", StructuredTask("pick", R("tape_measure", "orange"))),
    ],
    "typo": [
        ("pick up the yelow screwdirver", StructuredTask("pick", R("screwdriver", "yellow"))),
        ("put the hamer in the left bin", StructuredTask("place", R("claw_hammer"), "left bin")),
        ("how mnay screwdirvers are there?", StructuredTask("count", R("screwdriver", every=True))),
    ],
    "unlisted": [
        ("hand me the utility knife", StructuredTask("fetch", R(UNLISTED))),
        ("could you pick up the torque wrench?", StructuredTask("pick", R(UNLISTED))),
    ],
}


@pytest.mark.parametrize("family", sorted(CASES))
def test_reads_each_paraphrase_family(family):
    for text, want in CASES[family]:
        assert read_instruction(text) == want, text


def test_words_it_does_not_need_are_ignored():
    want = StructuredTask("pick", R("claw_hammer", "red"))
    assert read_instruction("please pick up the red hammer, the weather is lovely today and my tea is cold") == want


@pytest.mark.parametrize("text", ["", "   ", "?!", "asdf qwerty zxcv", "the of and to", "make me a sandwich", "blorp"])
def test_garbled_or_empty_is_unclear_and_says_what_is_missing(text):
    task = read_instruction(text)
    assert task.intent == "unclear" and task.missing == ("category",) and task.reference is None


def test_a_missing_slot_is_named():
    assert read_instruction("put the hammer away").missing == ("container",)
    assert read_instruction("pick it up").missing == ("category",)


def test_every_env_template_reads_as_its_task():
    kinds = {"PickTool": "pick", "PlaceTool": "place", "FetchTool": "fetch", "CollectScrews": "collect", "SortTools": "sort"}
    for task, intent in kinds.items():
        for split in ("train", "test"):
            for template in TASKS[task].templates[split]:
                text = template.format(ref="largest crosshead screwdriver", container="left bin")
                read = read_instruction(text)
                assert read.intent == intent, text
                if "{ref}" in template:
                    assert read.reference == R("phillips_screwdriver", order="largest"), text


def test_replies_refine_the_reference():
    asked = R("adjustable_wrench", "black")
    assert read_reply("I mean the small black adjustable wrench", asked) == R("adjustable_wrench", "black", "small")
    assert read_reply("the one on the left", asked) == R("adjustable_wrench", "black", order="leftmost")
    assert read_reply("I mean the large silver Allen key", R(UNLISTED)) == R("allen_key", "silver", "large")


# --- the planner with what the reader says -------------------------------------------------------------------------------
def test_planner_asks_about_garbled_instructions_and_never_guesses():
    from scripted_backend import ScriptedBackend

    from workbench_gym.policies.vlm_planner import ENV_OPTIONS, VLMPlanner

    env = gym.make("workbench_gym/PickTool-v0", control_mode="primitive", **ENV_OPTIONS)
    try:
        for text in ("", "xqzv blorp wibble"):
            obs, _ = env.reset(seed=0, options={"instruction": text} if text else None)
            obs = {**obs, "instruction": text}
            planner = VLMPlanner(ScriptedBackend(env))
            planner.reset(text)
            actions = []
            for _ in range(3):
                action = decode(planner.act(obs))
                actions.append(action)
                if isinstance(action, Done):
                    break
                obs, *_ = env.step(planner.last)
            assert isinstance(actions[0], Ask) and "(category)" in actions[0].text
            assert not any(isinstance(a, (Pick, Place)) for a in actions) and isinstance(actions[-1], Done)
    finally:
        env.close()


def test_planner_asks_for_a_missing_container_and_uses_the_reply():
    from scripted_backend import ScriptedBackend

    from workbench_gym.policies.vlm_planner import ENV_OPTIONS, VLMPlanner

    env = gym.make("workbench_gym/PlaceTool-v0", control_mode="primitive", **ENV_OPTIONS)
    try:
        obs, info = env.reset(seed=0)
        goal = info["goal"]["objects"][0]
        text = f"put the {goal['colour']} {goal['category'].replace('_', ' ')} away"
        planner = VLMPlanner(ScriptedBackend(env))
        planner.reset(text)
        first = decode(planner.act(obs))
        assert isinstance(first, Ask) and "(container)" in first.text
        obs = {**obs, "dialog": "in the " + {"bin_left": "left bin", "bin_middle": "middle bin", "bin_right": "right bin"}.get(goal["zone"], "parts tray")}
        second = decode(planner.act(obs))
        assert isinstance(second, Pick)
        assert np.isfinite(second.pose).all()
    finally:
        env.close()


def test_training_is_reproducible_and_learns(tmp_path):
    """A tiny run of the shipped recipe twice: the same weights bit for bit, a falling loss, weights that load back."""
    import torch

    from workbench_gym.language.corpus import generate_corpus
    from workbench_gym.language.reader import InstructionReader, ReaderConfig, load_network, save_network
    from workbench_gym.language.training import encode_examples, train_network

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        corpus = generate_corpus(160, seed=5)
        vectors = encode_examples(corpus, progress=False)
        config = ReaderConfig(hidden=32, recurrent=16)
        first, losses = train_network(corpus, vectors, config, epochs=3, seed=1, progress=False)
        again, _ = train_network(corpus, vectors, config, epochs=3, seed=1, progress=False)
    finally:
        torch.set_num_threads(threads)
    assert losses[-1] < losses[0]
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values()))
    save_network(first, tmp_path / "reader.safetensors")
    loaded = load_network(tmp_path / "reader.safetensors")
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), loaded.state_dict().values()))
    assert InstructionReader(network=loaded).read("").intent == "unclear"
    with pytest.raises(FileNotFoundError, match="train_reader.py"):
        load_network(tmp_path / "missing.safetensors")
