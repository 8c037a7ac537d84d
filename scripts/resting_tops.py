"""Write the catalog's resting tops: how high each tool variant's top stands when it lies at rest on a flat top.

The planner's perception tells most kinds' sizes apart by the height of their tops as well as by their lengths
(`policies.perception.tool_fit`). Perception imports nothing from the simulator, so it reads this table, made here
from the catalog shapes settled alone on a bench (`sim.rest.resting_top`); `tests/test_tool_sizes.py` checks that
the table still matches them.

    python scripts/resting_tops.py    # rewrites workbench_gym/policies/perception/resting_tops.json
"""

from __future__ import annotations

import argparse
import json

from workbench_gym.policies.perception.tool_fit import RESTING_TOPS
from workbench_gym.scenes.catalog import TOOLS
from workbench_gym.sim.rest import resting_top
from workbench_gym.sim.world import SimConfig


def table() -> dict[str, dict[str, float]]:
    """Each tool variant's resting top in metres, rounded to 0.01 mm, with the default physics settings."""
    sim = SimConfig()
    return {category: {size: round(resting_top(category, size, sim.timestep, sim.solver_iterations, sim.solver_residual_threshold), 5)
                       for size in cat.sizes} for category, cat in TOOLS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(RESTING_TOPS))
    args = parser.parse_args()
    with open(args.out, "w") as f:
        json.dump(table(), f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
