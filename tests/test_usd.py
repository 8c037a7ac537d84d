"""USD export: the stage Isaac Sim would open matches the spec and the PyBullet world built from the same spec."""

import ast
import copy
import inspect

import numpy as np
import pytest

pytest.importorskip("pxr")
from pxr import Gf, Usd, UsdGeom, UsdLux, UsdPhysics, UsdShade

from workbench_gym.cli import main
from workbench_gym.scenes import SceneSpecError, sample_clutter, usd
from workbench_gym.scenes.catalog import BENCH_FRICTION
from workbench_gym.scenes.usd import export_usd, prim_names
from workbench_gym.sim import World
from workbench_gym.sim.camera import Camera

#: PyBullet pads the bounding box of each convex-mesh collision part (not boxes, cylinders or capsules)
#: by 2 mm a side in the part's frame before rotating it into the world: measured with a lone mesh
#: box, whose AABB grew by 2 mm at yaw 0 and by 2 mm * (|cos| + |sin|) at yaw 0.5.
HULL_PADDING = 0.002
TOLERANCE = 1e-3  # metres


@pytest.fixture(scope="module")
def spec():
    return sample_clutter(seed=5, n_tools=12)


@pytest.fixture(scope="module")
def stage(spec, tmp_path_factory):
    path = export_usd(spec, tmp_path_factory.mktemp("usd") / "scene.usda")
    return Usd.Stage.Open(str(path))


@pytest.fixture(scope="module")
def world(spec):
    world = World()
    world.build(spec, settle=False)
    yield world
    world.close()


def _object_prim(stage, spec, obj) -> Usd.Prim:
    group = "Containers" if obj in spec.containers else "Tools"
    prim = stage.GetPrimAtPath(f"/World/{group}/{prim_names(spec)[obj.name]}")
    assert prim.IsValid(), obj.name
    return prim


def _meshes(prim) -> list[Usd.Prim]:
    return [child for child in prim.GetChildren() if child.IsA(UsdGeom.Mesh)]


def _range(r: Gf.Range3d) -> np.ndarray:
    return np.array([r.GetMin(), r.GetMax()])


def test_stage_is_z_up_in_metres_with_world_default_prim_and_gravity(stage):
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z
    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert stage.GetDefaultPrim().GetPath() == "/World"
    scene = UsdPhysics.Scene(stage.GetPrimAtPath("/World/PhysicsScene"))
    assert tuple(scene.GetGravityDirectionAttr().Get()) == (0, 0, -1)
    assert scene.GetGravityMagnitudeAttr().Get() == pytest.approx(9.81)


def test_stage_passes_the_openusd_validators(stage):
    validation = pytest.importorskip("pxr.UsdValidation")  # older usd-core releases lack it
    context = validation.ValidationContext(validation.ValidationRegistry().GetOrLoadAllValidators())
    assert [error.GetMessage() for error in context.Validate(stage)] == []


def test_objects_are_rigid_bodies_with_the_spec_mass_and_convex_colliders(stage, spec):
    for obj in spec.objects:
        prim, geometry = _object_prim(stage, spec, obj), obj.geometry
        assert prim.HasAPI(UsdPhysics.RigidBodyAPI), obj.name
        assert UsdPhysics.RigidBodyAPI(prim).GetKinematicEnabledAttr().Get() == (obj in spec.containers)
        mass = UsdPhysics.MassAPI(prim)
        assert mass.GetMassAttr().Get() == pytest.approx(geometry.mass, rel=1e-6)
        np.testing.assert_allclose(mass.GetCenterOfMassAttr().Get(), geometry.center_of_mass, atol=1e-7)
        meshes = _meshes(prim)
        assert len(meshes) == len(geometry.parts)
        for mesh in meshes:
            assert mesh.HasAPI(UsdPhysics.CollisionAPI), mesh.GetPath()
            assert UsdPhysics.MeshCollisionAPI(mesh).GetApproximationAttr().Get() == UsdPhysics.Tokens.convexHull


def _union(ranges) -> np.ndarray:
    return np.stack([np.min([r[0] for r in ranges], axis=0), np.max([r[1] for r in ranges], axis=0)])


def _to_world(body_range: np.ndarray, prim) -> np.ndarray:
    """Axis-aligned world box around a body-frame box, as PyBullet's getAABB and the spec's world_bounds() make it."""
    to_world = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.Default())
    box = Gf.BBox3d(Gf.Range3d(*(Gf.Vec3d(*v) for v in body_range)), to_world)
    return _range(box.ComputeAlignedRange())


def test_bounds_match_the_spec_and_pybullet_within_a_millimetre(stage, spec, world):
    # BBoxCache's bound of a whole turned object mixes spaces (it is up to 12 mm tighter than the box around
    # the turned body box), so bound each part mesh in the body frame and turn their union as PyBullet does.
    cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_])
    for obj in spec.objects:
        prim = _object_prim(stage, spec, obj)
        parts = [_range(cache.ComputeRelativeBound(mesh, prim).ComputeAlignedRange()) for mesh in _meshes(prim)]
        body = _union(parts)
        np.testing.assert_allclose(body, obj.geometry.bounds, atol=TOLERANCE, err_msg=obj.name)
        np.testing.assert_allclose(_to_world(body, prim), obj.world_bounds(), atol=TOLERANCE, err_msg=obj.name)
        pads = [HULL_PADDING if part.shape == "mesh" else 0.0 for part in obj.geometry.parts]
        padded = _union([r + [[-pad], [pad]] for r, pad in zip(parts, pads)])
        np.testing.assert_allclose(_to_world(padded, prim), world.client.getAABB(world.bodies[obj.name]), atol=TOLERANCE, err_msg=obj.name)
    bench = _range(cache.ComputeWorldBound(stage.GetPrimAtPath("/World/Bench")).ComputeAlignedRange())
    np.testing.assert_allclose(bench, world.client.getAABB(world.bench_body), atol=TOLERANCE)
    assert bench[1, 2] == pytest.approx(spec.bench.height)


def test_world_cameras_reproduce_the_simulator_intrinsics_and_pose(stage, spec):
    for cam in spec.cameras:
        prim = stage.GetPrimAtPath(f"/World/Cameras/{cam.name}")
        if cam.mount == "wrist":
            assert not prim.IsValid(), "wrist cameras ride on the robot, which is not exported"
            continue
        camera, sim = UsdGeom.Camera(prim), Camera(cam, spec.lights[0])
        focal = camera.GetFocalLengthAttr().Get()
        fx = focal / camera.GetHorizontalApertureAttr().Get() * cam.width
        fy = focal / camera.GetVerticalApertureAttr().Get() * cam.height
        np.testing.assert_allclose([fx, fy], [sim.intrinsics[0, 0], sim.intrinsics[1, 1]], rtol=1e-3)
        assert tuple(camera.GetClippingRangeAttr().Get()) == pytest.approx((cam.near, cam.far))
        # USD cameras look down -z with +y up; OpenCV's look down +z with +y down.
        camera_to_world = np.array(camera.ComputeLocalToWorldTransform(Usd.TimeCode.Default())).T
        extrinsics = np.diag([1.0, -1.0, -1.0, 1.0]) @ np.linalg.inv(camera_to_world)
        np.testing.assert_allclose(extrinsics, sim.view()[1], atol=1e-5)


def test_lights_shine_against_their_direction(stage, spec):
    lights = [p for p in stage.GetPrimAtPath("/World/Lights").GetChildren() if p.IsA(UsdLux.DistantLight)]
    assert len(lights) == len(spec.lights)
    for prim, light in zip(lights, spec.lights):
        to_world = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.Default())
        shine = np.array(to_world.TransformDir(Gf.Vec3d(0, 0, -1)))
        np.testing.assert_allclose(shine, -np.asarray(light.direction) / np.linalg.norm(light.direction), atol=1e-9)


def test_objects_carry_class_and_instance_labels(stage, spec):
    for obj in spec.objects:
        prim = _object_prim(stage, spec, obj)
        # As written: usd-core does not know Isaac's SemanticsAPI schema, so GetAppliedSchemas() leaves it out.
        schemas = prim.GetMetadata("apiSchemas").GetAddedOrExplicitItems()
        for taxonomy, value in (("class", obj.category), ("instance", obj.name)):
            assert f"SemanticsAPI:Semantics_{taxonomy}" in schemas
            assert prim.GetAttribute(f"semantic:Semantics_{taxonomy}:params:semanticType").Get() == taxonomy
            assert prim.GetAttribute(f"semantic:Semantics_{taxonomy}:params:semanticData").Get() == value
            if usd.UsdSemantics is not None:
                assert list(usd.UsdSemantics.LabelsAPI(prim, taxonomy).GetLabelsAttr().Get()) == [value]


def test_colours_and_friction_follow_the_simulator(stage, spec, world):
    assert BENCH_FRICTION == pytest.approx(world.client.getDynamicsInfo(world.bench_body, -1)[1])
    for obj in spec.objects:
        prim, geometry = _object_prim(stage, spec, obj), obj.geometry
        for mesh, part in zip(_meshes(prim), geometry.parts):
            look, _ = UsdShade.MaterialBindingAPI(mesh).ComputeBoundMaterial()
            shader = UsdShade.Shader(look.GetPrim().GetChild("PreviewSurface"))
            np.testing.assert_allclose(shader.GetInput("diffuseColor").Get(), geometry.part_colour(part, obj.colour), atol=1e-6)
            physics, _ = UsdShade.MaterialBindingAPI(mesh).ComputeBoundMaterial("physics")
            friction = UsdPhysics.MaterialAPI(physics).GetDynamicFrictionAttr().Get()
            assert friction == pytest.approx(world.client.getDynamicsInfo(world.bodies[obj.name], -1)[1]), mesh.GetPath()


def test_export_is_deterministic(spec, tmp_path):
    a, b = export_usd(spec, tmp_path / "a.usd"), export_usd(spec, tmp_path / "b.usd")
    assert a.read_bytes() == b.read_bytes()


def _unknown_category(spec):
    spec.tools[0].category = "spanner"


def _overlapping_tools(spec):
    spec.tools[1].pose = copy.deepcopy(spec.tools[0].pose)


def _names_colliding_in_usd(spec):
    spec.tools[0].name = spec.tools[1].name.replace("_", " ")  # both become the same prim name


@pytest.mark.parametrize(
    ("corrupt", "field"),
    [(_unknown_category, "tools[0].category"), (_overlapping_tools, "tools[1].pose.position"), (_names_colliding_in_usd, "tools[1].name")],
)
def test_a_bad_spec_raises_and_writes_nothing(spec, tmp_path, corrupt, field):
    bad = copy.deepcopy(spec)
    corrupt(bad)
    with pytest.raises(SceneSpecError) as err:
        export_usd(bad, tmp_path / "scene.usda")
    assert err.value.field == field
    assert list(tmp_path.iterdir()) == []


def test_other_suffixes_are_refused(spec, tmp_path):
    with pytest.raises(ValueError, match=r"scene\.obj"):
        export_usd(spec, tmp_path / "scene.obj")
    assert list(tmp_path.iterdir()) == []


def test_exporter_imports_no_simulator():
    tree = ast.parse(inspect.getsource(usd))
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in modules if m.split(".")[0] in ("pybullet", "bpy", "torch") or m.startswith("workbench_gym.sim")]


def test_cli_exports_the_env_scene(tmp_path, capsys):
    out = tmp_path / "scene.usda"
    assert main(["export-usd", "--task", "PickTool-v0", "--seed", "0", "--n-tools", "4", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    stage = Usd.Stage.Open(str(out))
    tools = stage.GetPrimAtPath("/World/Tools").GetChildren()
    assert len(tools) == 4 and all(t.HasAPI(UsdPhysics.RigidBodyAPI) for t in tools)
