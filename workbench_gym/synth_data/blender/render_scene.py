# SPDX-License-Identifier: GPL-3.0-or-later
#
# workbench-gym: the BlenderProc render program.
# Copyright (C) 2026 workbench-gym developers
#
# This program is free software: you can redistribute it and/or modify it under the terms of the GNU
# General Public License as published by the Free Software Foundation, either version 3 of the License,
# or (at your option) any later version.
#
# This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY; without
# even the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the GNU General
# Public License for more details.
#
# You should have received a copy of the GNU General Public License along with this program (LICENSE
# beside this file). If not, see <https://www.gnu.org/licenses/>.
"""Render scene jobs with BlenderProc (Cycles): a stand-alone program, run in its own process.

This is the only file of workbench-gym that imports `bpy` or `blenderproc` (both GPL), so it carries
the GPL. The rest of the package (Apache-2.0) never imports it: `synth_data.blenderproc_renderer`
starts it as a program and talks to it through files and pipes only. It imports nothing from
workbench-gym, so it also runs in an interpreter that has only bpy and BlenderProc.

Protocol. argv[1] is a JSON object of render settings. Once ready, the program writes one JSON line
to its stdout; then, for each JSON line `{"job": path, "out": path}` read from stdin, it renders the
job (an .npz of meshes, materials, lights and cameras, see `blenderproc_renderer.scene_job`), writes
the frames to `out` (written to a temporary name, then renamed) and answers one JSON line:
`{"ok": true}` or `{"ok": false, "error": text}`. Everything Blender prints goes to stderr.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import sys
import time
import traceback

import numpy as np

#: Objects sharper than this (degrees between faces) keep a hard edge; rounder ones are shaded smooth.
SMOOTH_ANGLE = 35.0


def import_blenderproc(temp_dir: str):
    """Import BlenderProc's API from the bpy wheel, outside of BlenderProc's own launcher.

    `blenderproc run` starts Blender's bundled Python, pip-installs BlenderProc's requirements into
    it and sets INSIDE_OF_THE_INTERNAL_BLENDER_PYTHON_ENVIRONMENT. With the bpy wheel the
    requirements are already installed, so the package is imported in two steps: first without
    that variable (only the launcher check runs), to switch off `SetupUtility.setup` (it would run
    ensurepip and pip inside a Blender install); then re-executed with it, which loads the API.
    """
    os.environ["OUTSIDE_OF_THE_INTERNAL_BLENDER_PYTHON_ENVIRONMENT_BUT_IN_RUN_SCRIPT"] = "1"
    import blenderproc
    from blenderproc.python.utility.SetupUtility import SetupUtility
    from blenderproc.python.utility.Utility import Utility

    SetupUtility.setup = staticmethod(lambda *args, **kwargs: sys.argv)
    # The API's __init__ removes its parent folder (site-packages) from sys.path once: list it twice.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(blenderproc.__file__))))
    os.environ["INSIDE_OF_THE_INTERNAL_BLENDER_PYTHON_ENVIRONMENT"] = "1"
    importlib.reload(blenderproc)
    Utility.temp_dir = temp_dir
    os.makedirs(temp_dir, exist_ok=True)
    return blenderproc


def init_blenderproc(bproc) -> None:
    """`bproc.init()` without its switch of the UI language to en_US (the bpy wheel ships no locales)."""
    import bpy
    from blenderproc.python.utility.GlobalStorage import GlobalStorage
    from blenderproc.python.utility.Initializer import _Initializer

    bproc.clean_up(clean_up_camera=True)
    bpy.context.scene.render.engine = "CYCLES"
    _Initializer.set_default_parameters()
    GlobalStorage.add("bproc_init_complete", True)


def configure(bproc, settings: dict) -> dict:
    """Apply the render settings once per process; return what was actually used."""
    import bpy

    scene = bpy.context.scene
    used = {"device": "CPU"}
    if settings["device"] in ("auto", "gpu"):
        bproc.renderer.set_render_devices(use_only_cpu=False)
        used["device"] = scene.cycles.device
        if settings["device"] == "gpu" and scene.cycles.device != "GPU":
            raise RuntimeError("device='gpu' was asked for, but Cycles found no OPTIX, CUDA or HIP device")
    else:
        bproc.renderer.set_render_devices(use_only_cpu=True)
    bproc.renderer.set_cpu_threads(int(settings["threads"]))
    bproc.renderer.set_max_amount_of_samples(int(settings["samples"]))
    bproc.renderer.set_noise_threshold(float(settings["noise_threshold"]))
    bounces = int(settings["max_bounces"])
    bproc.renderer.set_light_bounces(diffuse_bounces=min(bounces, 2), glossy_bounces=bounces, max_bounces=bounces,
                                     transmission_bounces=0, transparent_max_bounces=0, volume_bounces=0)
    bproc.renderer.set_output_format(file_format="PNG", color_depth=8, enable_transparency=False,
                                     view_transform=settings["view_transform"])
    bproc.renderer.set_denoiser(None)
    used["denoiser"] = None
    if settings["denoise"]:
        import _cycles

        if _cycles.with_openimagedenoise:
            # Cycles' own OIDN pass: cheaper than BlenderProc's compositor denoiser node.
            scene.cycles.use_denoising = True
            scene.cycles.denoiser = "OPENIMAGEDENOISE"
            scene.cycles.denoising_input_passes = "RGB_ALBEDO_NORMAL"
            scene.cycles.denoising_prefilter = "FAST"
            used["denoiser"] = "OPENIMAGEDENOISE"
    # Keep the BVH and shaders between the cameras of a scene.
    scene.render.use_persistent_data = True
    bproc.renderer.enable_depth_output(activate_antialiasing=False)
    bproc.renderer.enable_segmentation_output(map_by=["category_id"], default_values={"category_id": 0})
    return used


def build_scene(bproc, job: dict, arrays) -> None:
    """Replace the scene's contents by the job's materials, meshes, lights and world light."""
    import bpy

    bproc.clean_up(clean_up_camera=False)
    materials = []
    for i, m in enumerate(job["materials"]):
        material = bproc.material.create(f"material_{i}")
        material.set_principled_shader_value("Base Color", [*m["colour"], 1.0])
        material.set_principled_shader_value("Roughness", float(m["roughness"]))
        material.set_principled_shader_value("Metallic", float(m["metallic"]))
        materials.append(material)
    for i, m in enumerate(job["meshes"]):
        obj = bproc.object.create_with_empty_mesh(m["name"])
        mesh = obj.get_mesh()
        mesh.from_pydata(arrays[f"mesh{i}_vertices"].tolist(), [], arrays[f"mesh{i}_faces"].tolist())
        face_materials = arrays[f"mesh{i}_materials"]
        slots = sorted(set(face_materials.tolist()))
        for index in slots:
            obj.add_material(materials[index])
        mesh.polygons.foreach_set("material_index", np.searchsorted(slots, face_materials).astype(np.int32))
        mesh.shade_smooth()
        mesh.set_sharp_from_angle(angle=math.radians(SMOOTH_ANGLE))
        mesh.update()
        obj.set_local2world_mat(arrays[f"mesh{i}_matrix"])
        # BlenderProc segments by pass index and maps it to "category_id": both are the instance id.
        obj.blender_obj.pass_index = int(m["instance_id"])
        obj.set_cp("category_id", int(m["instance_id"]))
    for light_data in job["lights"]:
        light = bproc.types.Light(light_type="SUN")
        light.set_color(light_data["colour"])
        light.set_energy(float(light_data["strength"]))
        light.blender_obj.data.angle = math.radians(float(light_data["angle_deg"]))
        light.set_local2world_mat(np.asarray(light_data["matrix"]))
    world = job["world"]
    bproc.renderer.set_world_background(list(world["colour"]), strength=float(world["strength"]))
    bpy.context.view_layer.update()


def render_cameras(bproc, job: dict, arrays, first_job: bool) -> dict[str, np.ndarray]:
    """Render each camera of the job: rgb (H, W, 3) uint8, depth (H, W) float32, segmentation (H, W) int32."""
    out = {}
    for i, cam in enumerate(job["cameras"]):
        bproc.utility.reset_keyframes()
        bproc.camera.set_intrinsics_from_K_matrix(arrays[f"camera{i}_K"], cam["width"], cam["height"],
                                                  clip_start=cam["near"], clip_end=cam["far"])
        bproc.camera.add_camera_pose(arrays[f"camera{i}_cam2world"])
        # The process's first render registers the colour output; registering it again only piles up duplicates.
        register = first_job and i == 0
        data = bproc.renderer.render(output_key="colors" if register else None, load_keys={"colors", "depth", "segmap"})
        out[f"camera{i}_rgb"] = np.asarray(data["colors"][0], dtype=np.uint8)[..., :3]
        out[f"camera{i}_depth"] = np.asarray(data["depth"][0], dtype=np.float32)
        out[f"camera{i}_segmentation"] = np.asarray(data["category_id_segmaps"][0], dtype=np.int32)
    return out


def run_job(bproc, job_path: str, out_path: str, first_job: bool) -> None:
    """Draw one job and write its frames to `out_path`."""
    with np.load(job_path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    job = json.loads(str(arrays.pop("job")))
    build_scene(bproc, job, arrays)
    frames = render_cameras(bproc, job, arrays, first_job)
    tmp = f"{out_path}.{os.getpid()}.tmp.npz"
    np.savez(tmp, **frames)
    os.replace(tmp, out_path)  # the driver never sees half a result


def main() -> int:
    # Blender and BlenderProc print to stdout: keep the real stdout for answers, send the rest to stderr.
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    settings = json.loads(sys.argv[1])
    started = time.perf_counter()
    bproc = import_blenderproc(settings["temp_dir"])
    init_blenderproc(bproc)
    used = configure(bproc, settings)
    answers.write(json.dumps({"ready": True, "start_s": time.perf_counter() - started, **used}) + "\n")
    for jobs_done, line in enumerate(sys.stdin):
        request = json.loads(line)
        started = time.perf_counter()
        try:
            run_job(bproc, request["job"], request["out"], first_job=jobs_done == 0)
        except Exception:  # the driver turns this into an error naming the scene
            answers.write(json.dumps({"ok": False, "error": traceback.format_exc()}) + "\n")
            return 1
        answers.write(json.dumps({"ok": True, "seconds": time.perf_counter() - started}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
