"""Scene model: tool catalog, procedural geometry, `SceneSpec` and the clutter sampler (no simulator here)."""

from workbench_gym.scenes.catalog import CATALOG, COLOURS, CONTAINERS, TOOLS, Category, get_category
from workbench_gym.scenes.geometry import BodyGeometry, GraspRegion, build_geometry
from workbench_gym.scenes.sampler import MAX_TOOLS, sample_clutter
from workbench_gym.scenes.spec import BenchSpec, CameraSpec, LightSpec, ObjectSpec, Pose, SceneSpec, SceneSpecError, validate

__all__ = [
    "CATALOG", "COLOURS", "CONTAINERS", "TOOLS", "MAX_TOOLS", "BenchSpec", "BodyGeometry", "CameraSpec", "Category",
    "GraspRegion", "LightSpec", "ObjectSpec", "Pose", "SceneSpec", "SceneSpecError", "build_geometry", "get_category",
    "sample_clutter", "validate",
]
