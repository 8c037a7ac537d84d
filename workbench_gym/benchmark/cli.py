"""`workbench-gym eval --suite v1`: the suite's command-line options and what they run (a thin layer over `run_suite`)."""

from __future__ import annotations

import argparse

from workbench_gym.arguments import positive_int


def add_suite_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options of `eval` (the planner, backend, options, Ray address and --out are `eval`'s own)."""
    group = parser.add_argument_group("benchmark suite (with --suite, --out is a folder for the results card)")
    group.add_argument("--suite", help="run a benchmark suite: a version (v1, or v1.1: v1 with erratum 1) or a suite JSON file, instead of --task")
    group.add_argument("--quick", action="store_true", help="the suite's CI subset (one episode per row)")
    group.add_argument("--dev-seeds", action="store_true", help="run the suite's rows on development seeds (test seeds - 95000), for tuning")
    group.add_argument("--instruction-set", help="folder of the L4 instruction set (goals.jsonl, instructions.jsonl)")
    group.add_argument("--control-set", help="folder of independently written language controls (replaces the built-in generator)")
    group.add_argument("--section", choices=("photoreal",),
                       help="run a section that stands apart: photoreal runs the suite's own planners with PyBullet and with Cycles frames "
                            "(--planner is not used; --task keeps some of its tasks)")
    group.add_argument("--episodes-per-task", type=positive_int, help="with --section photoreal: only the first N of the section's seeds per task")


def run_suite_command(args, planner_options: dict, env_options: dict) -> int:
    """Run the suite the arguments name (`planner_options` as `evaluate.planner_options` checked them) and say where
    the card is. The suite fixes every env option; one given on the command line is an error."""
    from workbench_gym.benchmark.planners import PlannerChoice
    from workbench_gym.benchmark.runner import run_suite
    from workbench_gym.benchmark.suite import load_suite

    if env_options:
        raise ValueError(f"the suite fixes the environment options; drop {sorted('--' + k.replace('_', '-') for k in env_options)}")
    if args.section == "photoreal":
        return _run_photoreal(args, planner_options)
    if args.episodes_per_task:
        raise ValueError("--episodes-per-task is for --section photoreal; the suite's other rows use --quick for a subset")
    planner = PlannerChoice(args.planner, planner_options)
    card = run_suite(load_suite(args.suite), planner, args.out, ray_address=args.ray_address, quick=args.quick, instruction_set=args.instruction_set,
                     control_set=args.control_set, workers=args.workers, progress=not args.quiet, dev=args.dev_seeds)
    print(f"{args.out}/card.md, card.json, card.png: {card['planner']}, suite {card['suite']['version']}")
    return 0


def _run_photoreal(args, planner_options: dict) -> int:
    """The photoreal section: its planners are the suite's own, so planner options and the other subsets do not apply."""
    from workbench_gym.arguments import task_name
    from workbench_gym.benchmark.photoreal_runner import run_photoreal
    from workbench_gym.benchmark.suite import load_suite

    given = [flag for flag, on in (("--option", set(planner_options) - {"backend"}), ("--backend", planner_options.get("backend", "native") != "native"),
                                   ("--planner", args.planner != "vlm"), ("--quick", args.quick), ("--ray-address", args.ray_address),
                                   ("--instruction-set", args.instruction_set), ("--control-set", args.control_set)) if on]
    if given:
        raise ValueError(f"--section photoreal runs the suite's own planners in this process, on a prefix of its seeds (--episodes-per-task); "
                         f"drop {given}")
    tasks = tuple(task_name(t) for t in args.task or ())
    card = run_photoreal(load_suite(args.suite), args.out, args.episodes_per_task, tasks, dev=args.dev_seeds, progress=not args.quiet)
    print(f"{args.out}/card.md, card.json: photoreal section of suite {card['suite']['version']}, "
          f"{card['episodes_per_task']} episodes per task" + (" (a subset)" if card["subset"] else ""))
    return 0
