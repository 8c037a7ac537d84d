"""Export a `SceneSpec` to a USD stage that Isaac Sim opens: bodies, colliders, materials, labels, cameras, lights.

Each tool and container becomes an Xform at its spec pose (body frame: origin on the resting plane)
with a rigid body, its mass and centre of mass, and one convex mesh collider per part, so Isaac Sim's
PhysX sees the shapes PyBullet collides. Containers are kinematic, as the simulator keeps them static.
Not exported: the robot and its pedestal (Isaac Sim ships its own Franka) and wrist cameras, which
ride on the robot's hand.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import trimesh

from workbench_gym.scenes.catalog import BENCH_FRICTION, COLOURS, MATERIAL_COLOURS
from workbench_gym.scenes.parts import quat_from_euler
from workbench_gym.scenes.spec import BenchSpec, CameraSpec, LightSpec, ObjectSpec, SceneSpec, SceneSpecError, validate

try:
    from pxr import Gf, Sdf, Tf, Usd, UsdGeom, UsdLux, UsdPhysics, UsdShade, Vt
except ImportError:
    raise ImportError("USD export needs usd-core: pip install 'workbench-gym[usd]'") from None
try:
    from pxr import UsdSemantics  # older usd-core releases lack it
except ImportError:
    UsdSemantics = None

SUFFIXES = (".usda", ".usd")
GRAVITY = 9.81
#: Sensor height in mm (USD's default horizontal aperture); only focal length over aperture matters for the image.
VERTICAL_APERTURE = 20.955
#: Distant-light intensity of Isaac Sim's default stage; PyBullet's light coefficients have no physical unit.
LIGHT_INTENSITY = 3000.0

#: Prim name of each palette colour; named colours win over the material colours they share (wood, brass).
_COLOUR_NAMES = {rgb: name for name, rgb in [*MATERIAL_COLOURS.items(), *COLOURS.items()]}


def export_usd(spec: SceneSpec, path) -> Path:
    """Write `spec` as a USD stage (.usda text or .usd binary, by suffix); return the path written."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ValueError(f"USD path must end in one of {SUFFIXES}, got {str(path)!r}")
    validate(spec)
    stage = build_stage(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Build in memory, write beside the target and rename: a failure never leaves a half-written stage.
    tmp = str(path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}"))
    try:
        if not stage.GetRootLayer().Export(tmp):
            raise OSError(f"could not write USD stage to {tmp!r}")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def build_stage(spec: SceneSpec) -> Usd.Stage:
    """An in-memory stage of the spec: Z up, metres, default prim /World, with a physics scene."""
    names = prim_names(spec)
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdPhysics.SetStageKilogramsPerUnit(stage, 1.0)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    stage.GetRootLayer().documentation = f"workbench-gym scene, seed {spec.seed}"

    scene = UsdPhysics.Scene.Define(stage, "/World/PhysicsScene")
    scene.CreateGravityDirectionAttr(Gf.Vec3f(0.0, 0.0, -1.0))
    scene.CreateGravityMagnitudeAttr(GRAVITY)

    # Typed group prims: an untyped parent would break the inheritance of transforms and visibility.
    for group in ("Containers", "Tools", "Cameras", "Lights"):
        UsdGeom.Xform.Define(stage, f"/World/{group}")
    materials = _Materials(stage)
    _add_bench(stage, spec.bench, materials)
    for group, objects, kinematic in (("Containers", spec.containers, True), ("Tools", spec.tools, False)):
        for obj in objects:
            _add_object(stage, f"/World/{group}/{names[obj.name]}", obj, kinematic, materials)
    for cam in spec.cameras:
        if cam.mount == "world":  # wrist cameras ride on the robot, which is not exported
            _add_camera(stage, f"/World/Cameras/{Tf.MakeValidIdentifier(cam.name)}", cam)
    for i, light in enumerate(spec.lights):
        _add_light(stage, f"/World/Lights/light_{i}", light)
    return stage


def prim_names(spec: SceneSpec) -> dict[str, str]:
    """USD prim name of each object (its name made a valid identifier); raise if two names collide."""
    names: dict[str, str] = {}
    taken: dict[str, str] = {}
    for group in ("containers", "tools"):
        for i, obj in enumerate(getattr(spec, group)):
            name = Tf.MakeValidIdentifier(obj.name)
            if name in taken:
                raise SceneSpecError(f"{group}[{i}].name", f"{obj.name!r} and {taken[name]!r} both become USD prim name {name!r}")
            names[obj.name], taken[name] = name, obj.name
    return names


class _Materials:
    """Creates each preview-surface and physics material once, under /World/Looks."""

    def __init__(self, stage: Usd.Stage):
        self.stage = stage
        UsdGeom.Scope.Define(stage, "/World/Looks")
        self._made: dict[str, UsdShade.Material] = {}

    def visual(self, rgb: tuple[float, float, float]) -> UsdShade.Material:
        """A UsdPreviewSurface material of one palette colour (linear RGB)."""
        name = _COLOUR_NAMES[tuple(rgb)]
        if name not in self._made:
            material = UsdShade.Material.Define(self.stage, f"/World/Looks/{name}")
            shader = UsdShade.Shader.Define(self.stage, f"/World/Looks/{name}/PreviewSurface")
            shader.CreateIdAttr("UsdPreviewSurface")
            shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*rgb))
            shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.6)
            material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
            self._made[name] = material
        return self._made[name]

    def physics(self, name: str, friction: float) -> UsdShade.Material:
        """A physics material with equal static and dynamic friction and no bounce."""
        key = f"physics_{name}"
        if key not in self._made:
            material = UsdShade.Material.Define(self.stage, f"/World/Looks/{key}")
            api = UsdPhysics.MaterialAPI.Apply(material.GetPrim())
            api.CreateStaticFrictionAttr(friction)
            api.CreateDynamicFrictionAttr(friction)
            api.CreateRestitutionAttr(0.0)
            self._made[key] = material
        return self._made[key]


def _add_mesh(stage: Usd.Stage, path: str, mesh: trimesh.Trimesh, look: UsdShade.Material, physics: UsdShade.Material) -> UsdGeom.Mesh:
    """A flat-shaded triangle mesh that is also a convex-hull collider, with its materials bound."""
    usd_mesh = UsdGeom.Mesh.Define(stage, path)
    points = Vt.Vec3fArray.FromNumpy(np.asarray(mesh.vertices, dtype=np.float32))
    usd_mesh.CreatePointsAttr(points)
    usd_mesh.CreateFaceVertexCountsAttr(Vt.IntArray([3] * len(mesh.faces)))
    usd_mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(np.asarray(mesh.faces, dtype=np.int32).ravel()))
    # Per-face normals and no subdivision: renderers would otherwise smooth boxes into blobs.
    usd_mesh.CreateNormalsAttr(Vt.Vec3fArray.FromNumpy(np.asarray(mesh.face_normals, dtype=np.float32)))
    usd_mesh.SetNormalsInterpolation(UsdGeom.Tokens.uniform)
    usd_mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
    usd_mesh.CreateExtentAttr(UsdGeom.Mesh.ComputeExtent(points))
    prim = usd_mesh.GetPrim()
    UsdPhysics.CollisionAPI.Apply(prim)
    UsdPhysics.MeshCollisionAPI.Apply(prim).CreateApproximationAttr(UsdPhysics.Tokens.convexHull)
    binding = UsdShade.MaterialBindingAPI.Apply(prim)
    binding.Bind(look)
    binding.Bind(physics, materialPurpose="physics")
    return usd_mesh


def _add_labels(prim: Usd.Prim, labels: dict[str, str]) -> None:
    """Semantic labels for Replicator, per taxonomy ("class", "instance"): Isaac's SemanticsAPI and UsdSemantics."""
    for taxonomy, value in labels.items():
        # Written by hand in the SemanticsAPI schema's layout: the schema ships with Isaac Sim, not usd-core.
        instance = f"Semantics_{taxonomy}"
        prim.AddAppliedSchema(f"SemanticsAPI:{instance}")
        prim.CreateAttribute(f"semantic:{instance}:params:semanticType", Sdf.ValueTypeNames.String).Set(taxonomy)
        prim.CreateAttribute(f"semantic:{instance}:params:semanticData", Sdf.ValueTypeNames.String).Set(value)
        if UsdSemantics is not None:
            UsdSemantics.LabelsAPI.Apply(prim, taxonomy).CreateLabelsAttr([value])


def _add_object(stage: Usd.Stage, path: str, obj: ObjectSpec, kinematic: bool, materials: _Materials) -> Usd.Prim:
    """A rigid body at the object's pose with one collider mesh per part."""
    geometry = obj.geometry
    xform = UsdGeom.Xform.Define(stage, path)
    xform.AddTranslateOp().Set(Gf.Vec3d(*obj.pose.position))
    x, y, z, w = quat_from_euler(*obj.pose.rpy)
    xform.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Quatd(w, x, y, z))
    prim = xform.GetPrim()
    UsdPhysics.RigidBodyAPI.Apply(prim).CreateKinematicEnabledAttr(kinematic)
    mass = UsdPhysics.MassAPI.Apply(prim)
    mass.CreateMassAttr(obj.mass if obj.mass is not None else geometry.mass)
    mass.CreateCenterOfMassAttr(Gf.Vec3f(*geometry.center_of_mass))
    main_material = max(geometry.parts, key=lambda p: p.mass).material
    if obj.friction is None:
        physics = materials.physics(main_material, geometry.friction)
    else:  # a perturbed instance gets a physics material of its own
        physics = materials.physics(Tf.MakeValidIdentifier(f"{obj.name}_friction"), obj.friction)
    for i, part in enumerate(geometry.parts):
        look = materials.visual(geometry.part_colour(part, obj.colour))
        _add_mesh(stage, f"{path}/part_{i:02d}_{Tf.MakeValidIdentifier(part.role)}", part.mesh(), look, physics)
    _add_labels(prim, {"class": obj.category, "instance": obj.name})
    return prim


def _add_bench(stage: Usd.Stage, bench: BenchSpec, materials: _Materials) -> UsdGeom.Mesh:
    """The bench slab: a static collider whose top face is at `bench.height`."""
    xform = UsdGeom.Xform.Define(stage, "/World/Bench")
    xform.AddTranslateOp().Set(Gf.Vec3d(*bench.center, bench.height - bench.size[2] / 2))
    slab = _add_mesh(
        stage, "/World/Bench/slab", trimesh.creation.box(extents=bench.size),
        materials.visual(COLOURS[bench.colour]), materials.physics("bench", BENCH_FRICTION),
    )
    _add_labels(xform.GetPrim(), {"class": "bench", "instance": "bench"})
    return slab


def camera_to_world(eye, target, up) -> np.ndarray:
    """4x4 pose of a USD camera (looking down -z, +y up) at `eye` looking at `target`, column vectors."""
    eye, target, up = (np.asarray(v, dtype=float) for v in (eye, target, up))
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, np.cross(right, forward), -forward, eye
    return pose


def _add_camera(stage: Usd.Stage, path: str, cam: CameraSpec) -> UsdGeom.Camera:
    """A pinhole camera whose focal length in pixels equals the simulator's for `cam`'s image size."""
    camera = UsdGeom.Camera.Define(stage, path)
    # USD matrices act on row vectors, hence the transpose.
    camera.AddTransformOp().Set(Gf.Matrix4d(camera_to_world(cam.eye, cam.target, cam.up).T.tolist()))
    fy = cam.height / 2 / math.tan(math.radians(cam.fov) / 2)  # pixels
    camera.CreateProjectionAttr(UsdGeom.Tokens.perspective)
    camera.CreateFocalLengthAttr(fy * VERTICAL_APERTURE / cam.height)
    camera.CreateVerticalApertureAttr(VERTICAL_APERTURE)
    camera.CreateHorizontalApertureAttr(VERTICAL_APERTURE * cam.width / cam.height)
    camera.CreateClippingRangeAttr(Gf.Vec2f(cam.near, cam.far))
    return camera


def _add_light(stage: Usd.Stage, path: str, light: LightSpec) -> UsdLux.DistantLight:
    """A distant light shining along -`light.direction` (a distant light shines down its local -z)."""
    distant = UsdLux.DistantLight.Define(stage, path)
    turn = Gf.Rotation(Gf.Vec3d(0.0, 0.0, 1.0), Gf.Vec3d(*light.direction)).GetQuat()
    distant.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(turn)
    distant.CreateColorAttr(Gf.Vec3f(*light.colour))
    distant.CreateIntensityAttr(LIGHT_INTENSITY)
    return distant
