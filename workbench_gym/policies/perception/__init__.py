"""What a robot can measure from its cameras: back-projection, the bench plane, object proposals, fitting catalog
tools and zones to regions, and fusing regions of two views in the bench frame.

Camera data only (RGB, metric depth, K, extrinsics) and public catalog shapes; nothing here reads simulator
state or imports `envs`. Each module holds one job:

- `camera`: the one back-projection, projection, what a view sees of world points (`sight`), a pixel's footprint
  on the bench, a decimated view;
- `bench`: the one bench-plane estimate;
- `proposals`: class-agnostic object proposals of one RGB-D frame;
- `regions`: a region of one view lifted to world points above the bench, and whether something hides part of it;
- `tool_fit`, `zone_fit`: a catalog tool's pose and size, or a container's inner floor, fitted to lifted points;
- `fusion`: regions of a front view and a second look fused into one object per thing on the bench;
- `shapes`: principal axis, extents and the smallest enclosing rectangle of points on the bench plane.
"""

from workbench_gym.policies.perception.bench import bench_height, view_bench_height
from workbench_gym.policies.perception.camera import backproject, bench_area, decimate, pixel_size, project, sight, standing_at, view_points
from workbench_gym.policies.perception.fusion import FusedRegion, FusionConfig, fuse
from workbench_gym.policies.perception.proposals import FrameAnalysis, Proposal, ProposalConfig, analyse, propose
from workbench_gym.policies.perception.regions import LiftedRegion, lift_mask, lift_proposals, lift_region, occluded
from workbench_gym.policies.perception.tool_fit import ToolEstimate, fit_points, fit_tool, resting_tops, size_misfit
from workbench_gym.policies.perception.zone_fit import fit_zone, zone_of_points

__all__ = [
    "FrameAnalysis", "FusedRegion", "FusionConfig", "LiftedRegion", "Proposal", "ProposalConfig", "ToolEstimate", "analyse",
    "backproject", "bench_area", "bench_height", "decimate", "fit_points", "fit_tool", "fit_zone", "fuse", "lift_mask",
    "lift_proposals", "lift_region", "occluded", "pixel_size", "project", "propose", "resting_tops", "sight", "size_misfit", "standing_at", "view_bench_height", "view_points",
    "zone_of_points",
]
