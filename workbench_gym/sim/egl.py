"""PyBullet's EGL renderer plugin: GPU rendering for headless clients, used where a GPU driver is present.

The plugin must be loaded before the client creates any body (else it draws empty frames), and
its EGL set-up calls `exit()` when it cannot open a display, so it is first tried once per
process in a child interpreter. Without a GPU driver, Mesa's EGL would render on the CPU
(llvmpipe), slower than TinyRenderer, so that counts as no GPU.
"""

from __future__ import annotations

import glob
import importlib.util
import subprocess
import sys
import warnings
from functools import lru_cache

#: Device nodes of a GPU driver: NVIDIA's, or any DRM render node (AMD, Intel).
GPU_DEVICE_PATTERNS = ("/dev/nvidiactl", "/dev/nvidia[0-9]*", "/dev/dri/renderD*")
PROBE_TIMEOUT_S = 60

# A child interpreter loads the plugin, draws a box and prints how many pixels show it.
_PROBE = """
import importlib.util, numpy, pybullet as p
c = p.connect(p.DIRECT)
p.loadPlugin(importlib.util.find_spec("eglRenderer").origin, "_eglRendererPlugin", physicsClientId=c)
box = p.createMultiBody(0, -1, p.createVisualShape(p.GEOM_BOX, halfExtents=[0.2] * 3, physicsClientId=c), physicsClientId=c)
view = p.computeViewMatrix([1, 1, 1], [0, 0, 0], [0, 0, 1])
proj = p.computeProjectionMatrixFOV(60, 1, 0.1, 10)
seg = p.getCameraImage(32, 32, view, proj, renderer=p.ER_BULLET_HARDWARE_OPENGL, physicsClientId=c)[4]
print("PIXELS", int((numpy.asarray(seg) == box).sum()))
"""


class EGLUnavailableWarning(RuntimeWarning):
    """renderer="egl" was asked for, but this process renders with TinyRenderer."""


def plugin_path() -> str | None:
    """File of PyBullet's EGL plugin module, or None if this PyBullet build has none."""
    spec = importlib.util.find_spec("eglRenderer")
    return spec.origin if spec is not None else None


def gpu_driver_present() -> bool:
    """Whether a GPU driver's device nodes exist on this machine."""
    return any(glob.glob(pattern) for pattern in GPU_DEVICE_PATTERNS)


@lru_cache(maxsize=1)
def probe() -> str | None:
    """None if the plugin renders in a child interpreter, else why not (run once per process)."""
    if plugin_path() is None:
        return "this PyBullet build has no eglRenderer plugin"
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"the EGL plugin did not render within {PROBE_TIMEOUT_S} s"
    pixels = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("PIXELS ")]
    if done.returncode != 0 or not pixels or int(pixels[0]) == 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return f"the EGL plugin failed to render ({detail[0]})"
    return None


def load(client) -> bool:
    """Load the EGL plugin into a client that has no bodies yet; False (with a warning) if it cannot be used."""
    if not gpu_driver_present():
        reason = f"no GPU driver found (none of {', '.join(GPU_DEVICE_PATTERNS)} exists)"
    else:
        reason = probe()
    if reason is None and client.loadPlugin(plugin_path(), "_eglRendererPlugin") < 0:
        reason = "pybullet.loadPlugin refused the EGL plugin"
    if reason is not None:
        message = f"renderer='egl' is not available: {reason}; rendering with TinyRenderer instead"
        warnings.warn(message, EGLUnavailableWarning, stacklevel=3)
        return False
    return True
