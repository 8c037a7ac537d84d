"""Views on the wire: RGB as a PNG data URL (what every OpenAI-compatible server reads), and optionally depth and
calibration in a `workbench_view` field that our `serve` uses and other servers ignore.

Depth travels exactly: little-endian float32 metres, zlib-compressed, base64. (A 16-bit PNG in tenths of a
millimetre moved proposal masks by a pixel on a third of the frames: the bench-height and edge thresholds are that
fine.)
"""

from __future__ import annotations

import base64
import binascii
import io
import zlib

import numpy as np

from workbench_gym.policies.backend import View


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("sending images needs Pillow: pip install 'workbench-gym[vlm]'") from None
    return Image


def png_bytes(array: np.ndarray) -> bytes:
    """A uint8 RGB (H, W, 3) array as PNG bytes."""
    buffer = io.BytesIO()
    _pil().fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def image_data_url(rgb: np.ndarray) -> str:
    """An (H, W, 3) uint8 image as a `data:image/png;base64,...` URL."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {rgb.dtype} {rgb.shape}")
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode("ascii")


#: Largest image decoded (width x height): a few kB of PNG can declare gigapixels.
MAX_IMAGE_PIXELS = 4096 * 4096


def decode_image(url: str) -> np.ndarray:
    """The RGB image in a base64 data URL (PNG, JPEG, anything Pillow reads); ValueError for other URLs."""
    if not url.startswith("data:image/") or ";base64," not in url:
        raise ValueError(f"expected a base64 data URL (data:image/...;base64,...), got {url[:40]!r}: this server fetches nothing")
    try:
        data = base64.b64decode(url.split(";base64,", 1)[1], validate=True)
        with _pil().open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:  # checked on the header, before decoding
                raise ValueError(f"the image is {image.width}x{image.height}; at most {MAX_IMAGE_PIXELS} pixels are decoded")
            return np.asarray(image.convert("RGB"))
    except (binascii.Error, OSError) as err:
        raise ValueError(f"image data URL does not hold a readable image: {err}") from None


def view_payload(view: View) -> dict:
    """Depth and calibration of `view` as JSON-ready data (the RGB goes in the message as an image)."""
    payload = {
        "camera": view.camera,
        "intrinsics": np.asarray(view.intrinsics, float).tolist(),
        "extrinsics": np.asarray(view.extrinsics, float).tolist(),
    }
    if view.depth is not None:
        depth = np.ascontiguousarray(view.depth, dtype="<f4")
        payload["depth_f32_zlib"] = base64.b64encode(zlib.compress(depth.tobytes(), 1)).decode("ascii")
        payload["depth_shape"] = list(depth.shape)
    return payload


def default_intrinsics(width: int, height: int) -> np.ndarray:
    """A pinhole K with a 53 degree horizontal field of view, for images sent without calibration."""
    focal = float(max(width, height))
    return np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])


def view_from_payload(rgb: np.ndarray, payload: dict | None) -> View:
    """Rebuild the `View` a client sent; without a payload, no depth and a default calibration."""
    height, width = rgb.shape[:2]
    if not payload:
        return View(rgb, None, default_intrinsics(width, height), np.eye(4))
    try:
        intrinsics = np.asarray(payload["intrinsics"], dtype=float).reshape(3, 3)
        extrinsics = np.asarray(payload["extrinsics"], dtype=float).reshape(4, 4)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"workbench_view needs 'intrinsics' (3x3) and 'extrinsics' (4x4): {err}") from None
    depth = None
    if payload.get("depth_f32_zlib"):
        shape = payload.get("depth_shape")
        if not isinstance(shape, list) or shape != [height, width]:  # checked before inflating anything
            raise ValueError(f"workbench_view depth_shape is {shape!r}, expected the image's {[height, width]}")
        expected = 4 * height * width
        try:
            inflater = zlib.decompressobj()
            data = inflater.decompress(base64.b64decode(payload["depth_f32_zlib"], validate=True), expected)  # inflate no further
            complete = inflater.eof and not inflater.unconsumed_tail
        except (binascii.Error, zlib.error, TypeError) as err:
            raise ValueError(f"workbench_view depth_f32_zlib is not base64 zlib data: {err}") from None
        if len(data) != expected or not complete:
            raise ValueError(f"workbench_view depth inflates to {'more than ' if not complete else ''}{len(data)} bytes, "
                             f"expected {expected} (float32 {height}x{width})")
        depth = np.frombuffer(data, dtype="<f4").reshape(height, width)
    return View(rgb, depth, intrinsics, extrinsics, str(payload.get("camera", "front")))
