"""Episode videos: frames from the render camera, captioned with the instruction and each decision."""

from __future__ import annotations

from pathlib import Path

import numpy as np

try:
    import imageio.v2 as imageio
    from PIL import Image, ImageDraw, ImageFont
except ImportError:  # the `video` extra is not installed
    imageio = None


def _require() -> None:
    if imageio is None:
        raise SystemExit("writing videos needs imageio and Pillow: pip install 'workbench-gym[video]'")


def caption(frame: np.ndarray, top: str, bottom: str = "") -> np.ndarray:
    """The frame with `top` and `bottom` text on dark bands (wrapped to the frame width)."""
    _require()
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, frame.shape[1] // 32))
    for text, at_top in ((top, True), (bottom, False)):
        if not text:
            continue
        lines, line = [], ""
        for word in text.split():
            trial = f"{line} {word}".strip()
            if draw.textlength(trial, font=font) > frame.shape[1] - 8 and line:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
        height = (font.size + 3) * len(lines) + 4
        y0 = 0 if at_top else frame.shape[0] - height
        draw.rectangle([0, y0, frame.shape[1], y0 + height], fill=(20, 20, 24))
        for i, text_line in enumerate(lines):
            draw.text((4, y0 + 2 + i * (font.size + 3)), text_line, fill=(240, 240, 240), font=font)
    return np.asarray(image)


class VideoRecorder:
    """Appends captioned frames to an MP4 or GIF (by suffix) at `fps`."""

    def __init__(self, path: str | Path, fps: float):
        _require()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.suffix.lower() == ".gif":
            self._writer = imageio.get_writer(self.path, mode="I", duration=1000 / fps, loop=0)
        else:
            self._writer = imageio.get_writer(self.path, fps=fps, macro_block_size=1)
        self.frames = 0

    def add(self, frame: np.ndarray, top: str, bottom: str = "") -> None:
        self._writer.append_data(caption(frame, top, bottom))
        self.frames += 1

    def close(self) -> None:
        self._writer.close()
