"""One module per task; importing this package registers them all."""

from workbench_gym.envs.tasks.chain_tools import ChainTools
from workbench_gym.envs.tasks.clarify_tool import ClarifyTool
from workbench_gym.envs.tasks.collect_screws import CollectScrews
from workbench_gym.envs.tasks.count_tools import CountTools
from workbench_gym.envs.tasks.fetch_tool import FetchTool
from workbench_gym.envs.tasks.pick_tool import PickTool
from workbench_gym.envs.tasks.place_tool import PlaceTool
from workbench_gym.envs.tasks.reach_tool import ReachTool
from workbench_gym.envs.tasks.sort_tools import SortTools

__all__ = ["ChainTools", "ClarifyTool", "CollectScrews", "CountTools", "FetchTool", "PickTool", "PlaceTool", "ReachTool", "SortTools"]
