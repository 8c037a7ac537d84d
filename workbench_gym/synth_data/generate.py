"""Generate a dataset: shards of scenes rendered and annotated by workers, committed by one writer.

Workers (this process, local processes, or Ray tasks) turn a shard index into file contents and
return them; only the driver writes, each file atomically, and records the shard in the manifest
after its files are in place. A killed run therefore leaves finished shards and nothing half-written,
and the same command picks up where it stopped. Scenes depend only on (seed, scene index), so the
result is byte-identical whatever the worker count, order of completion or number of interruptions.
"""

from __future__ import annotations

import atexit
import fcntl
import io
import json
import logging
import os
import shlex
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

import pyarrow.parquet as pq

from workbench_gym.sim.world import World
from workbench_gym.synth_data.annotate import annotate_scene
from workbench_gym.synth_data.randomize import SynthConfig, settled_scene
from workbench_gym.synth_data.records import to_table
from workbench_gym.synth_data.recover import recover_manifest
from workbench_gym.synth_data.renderer import RENDERERS, PyBulletRenderer, Renderer, make_renderer, settle_spec
from workbench_gym.synth_data.storage import (
    MANIFEST,
    SHARD_CONFIG_KEY,
    SPLITS,
    CorruptManifest,
    DatasetError,
    Manifest,
    corrupt_shards,
    image_file,
    remove_unfinished,
    sha256,
    shard_file,
    write_atomic,
)

LOCK_FILE = ".lock"
log = logging.getLogger(__name__)
_RENDERERS: dict[str, Renderer] = {}  # one per worker process, reused across shards
_SETTLE_WORLD: list[World] = []


def _renderer(name: str) -> Renderer:
    if name not in _RENDERERS:
        _RENDERERS[name] = make_renderer(name)
        atexit.register(_RENDERERS[name].close)
    return _RENDERERS[name]


def _settle_and_render(renderer: Renderer):
    """spec -> (settled spec, frames): in one PyBullet build for PyBullet, else settle then render."""
    if isinstance(renderer, PyBulletRenderer):
        return renderer.settle_and_render
    if not _SETTLE_WORLD:
        _SETTLE_WORLD.append(World())

    def run(spec):
        settled = settle_spec(spec, _SETTLE_WORLD[0])
        return settled, renderer.render(settled)
    return run


def scene_records(config: SynthConfig, scene_index: int):
    """Annotated records of every camera of one scene."""
    spec, frames = settled_scene(config, scene_index, _settle_and_render(_renderer(config.renderer)))
    return annotate_scene(config, scene_index, spec, frames)


def render_shard(config: SynthConfig, shard: int) -> dict[str, bytes]:
    """Contents of one shard's files, keyed by path relative to the dataset directory."""
    records = [r for scene in config.shard_scenes(shard) for r in scene_records(config, scene)]
    files = {image_file(r.image_id): r.rgb_png for r in records}
    for split in SPLITS:
        part = [r for r in records if r.split == split]
        if part:
            buf = io.BytesIO()
            # Page checksums and the config let `--repair` tell whole shards of this dataset when the manifest is lost.
            table = to_table(part)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), SHARD_CONFIG_KEY: _config_json(config)})
            pq.write_table(table, buf, compression="zstd", row_group_size=64, write_page_checksum=True)
            files[shard_file(split, shard)] = buf.getvalue()
    return files


def _config_json(config: SynthConfig) -> bytes:
    return json.dumps(config.to_dict(), sort_keys=True).encode()


def command_line(config: SynthConfig, out: str) -> str:
    """The `generate` command that makes this dataset (worker count and Ray address do not change it)."""
    return shlex.join([
        "workbench-gym", "generate", "--renderer", config.renderer, "--scenes", str(config.scenes), "--out", out,
        "--seed", str(config.seed), "--size", str(config.size), "--scenes-per-shard", str(config.scenes_per_shard),
    ])


def _prepare(out: Path, config: SynthConfig, repair: bool) -> Manifest:
    """Start a dataset in an empty directory, or reopen one: a resume must match its config and files."""
    try:
        manifest = Manifest.load(out)
    except CorruptManifest as err:
        if not repair:
            raise DatasetError(f"--out {out}: {err}. Rerun with --repair to rebuild it from the shards that verify "
                               "(the damaged file is kept; only the shards that do not verify are rendered again)") from None
        manifest = _rebuild_manifest(out, config)
    if manifest is None and repair and (out / "data").is_dir():  # a dataset whose manifest was lost
        manifest = _rebuild_manifest(out, config)
    if manifest is None:
        if any(p.name != LOCK_FILE for p in out.iterdir()):
            raise DatasetError(f"--out {out}: directory is not empty and holds no manifest.json; choose an empty or new directory "
                               "(or, to rebuild a lost manifest from the dataset's shards, rerun with --repair)")
        manifest = Manifest(config.to_dict())
        manifest.save(out)  # from here on, a rerun recognises the directory as this dataset
        return manifest
    if manifest.config != config.to_dict():
        diff = {k: (manifest.config.get(k), v) for k, v in config.to_dict().items() if manifest.config.get(k) != v}
        changes = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in diff.items())
        raise DatasetError(f"--out {out}: holds a dataset made with another config ({changes}); rerun with the same options or use a new directory")
    bad = corrupt_shards(out, manifest)
    if bad:
        if not repair:
            listed = "; ".join(f"shard {k}: {', '.join(v[:3])}" for k, v in sorted(bad.items())[:5])
            raise DatasetError(
                f"--out {out}: finished shards {sorted(bad)} have missing or changed files ({listed}); "
                "rerun with --repair to render those shards again (the other shards are kept)"
            )
        for key in bad:
            del manifest.shards[key]
        manifest.complete = False
        manifest.save(out)
    remove_unfinished(out, manifest)
    return manifest


def _rebuild_manifest(out: Path, config: SynthConfig) -> Manifest:
    """List the shards on disk that verify in a new manifest, setting the damaged one aside."""
    manifest, kept = recover_manifest(out, config)
    if (out / MANIFEST).exists():
        kept_as = out / f"{MANIFEST}.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
        os.replace(out / MANIFEST, kept_as)
        log.warning("%s: the damaged manifest is kept as %s", out, kept_as.name)
    manifest.save(out)
    log.warning("%s: rebuilt manifest.json from the %d of %d shards that verify; the rest are rendered again",
                out, len(kept), config.n_shards)
    return manifest


def _commit(out: Path, manifest: Manifest, config: SynthConfig, shard: int, files: dict[str, bytes]) -> int:
    """Write a shard's files (images first, parquet last), then record it in the manifest."""
    for rel in sorted(files, key=lambda r: (r.startswith("data/"), r)):
        write_atomic(out / rel, files[rel], sync=rel.startswith("data/"))
    manifest.record(shard, config.shard_scenes(shard), {rel: sha256(data) for rel, data in files.items()})
    manifest.save(out)
    return sum(rel.startswith("images/") for rel in files)


def _run_local(config: SynthConfig, todo: list[int], workers: int, commit) -> None:
    if workers == 1:
        for shard in todo:
            commit(shard, render_shard(config, shard))
        return
    # Spawned workers start clean: no inherited PyBullet client or threads from the driver.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
    try:
        pending = {pool.submit(render_shard, config, shard): shard for shard in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f]):
                commit(pending.pop(future), future.result())
    except BaseException:  # stop at once: queued shards are dropped, finished ones are already on disk
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_ray(config: SynthConfig, todo: list[int], address: str, commit) -> None:
    try:
        import ray
    except ImportError:
        raise DatasetError("--ray-address needs Ray: pip install 'workbench-gym[ray]'") from None
    if not ray.is_initialized():  # a caller (or a test) may have started Ray already
        ray.init(address=None if address == "local" else address, log_to_driver=False)
    task = ray.remote(num_cpus=1)(render_shard)
    pending = {task.remote(config, shard): shard for shard in todo}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        commit(pending.pop(done[0]), ray.get(done[0]))


def generate(config: SynthConfig, out: str | Path, workers: int = 1, ray_address: str | None = None,
             progress: bool = True, repair: bool = False) -> Manifest:
    """Make (or finish) the dataset of `config` in `out`; returns the complete manifest."""
    if config.renderer not in RENDERERS:
        raise DatasetError(f"unknown renderer {config.renderer!r}; expected one of {RENDERERS.names()}")
    if not isinstance(workers, int) or workers < 1:
        raise DatasetError(f"--workers must be a positive integer, got {workers!r}")
    if config.renderer != "pybullet":
        try:  # fail here, not in every worker; constructing it checks its dependencies, starting nothing
            make_renderer(config.renderer).close()
        except RuntimeError as err:
            raise DatasetError(f"the {config.renderer} renderer is not available here: {err}") from None
    root = Path(out)
    lock = _lock(root)
    try:
        return _generate(config, root, str(out), workers, ray_address, progress, repair)
    finally:
        lock.close()


def _lock(root: Path):
    """Hold an exclusive lock on the directory (released when this process ends, however it ends)."""
    if root.exists() and not root.is_dir():
        raise DatasetError(f"--out {root}: exists and is not a directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / LOCK_FILE, "a")
    except OSError as err:
        raise DatasetError(f"--out {root}: not writable ({err.strerror or err})") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise DatasetError(f"--out {root}: another `generate` is writing to this directory") from None
    return lock


def _generate(config: SynthConfig, root: Path, out: str, workers: int, ray_address: str | None, progress: bool, repair: bool) -> Manifest:
    from tqdm.auto import tqdm

    from workbench_gym.synth_data.card import write_card
    from workbench_gym.synth_data.coco import write_coco

    manifest = _prepare(root, config, repair)
    todo = [s for s in range(config.n_shards) if s not in manifest.finished()]
    bar = tqdm(total=config.n_shards, initial=config.n_shards - len(todo), unit="shard", desc=f"generate {root.name}", disable=not progress)

    def commit(shard: int, files: dict[str, bytes]) -> None:
        images = _commit(root, manifest, config, shard, files)
        bar.set_postfix(images=images, refresh=False)
        bar.update()

    try:
        if todo and ray_address:
            _run_ray(config, todo, ray_address, commit)
        elif todo:
            _run_local(config, todo, workers, commit)
    finally:
        bar.close()
    manifest.counts = write_coco(root, manifest)
    write_card(root, config, manifest.counts, command_line(config, out), out)
    manifest.complete = True
    manifest.save(root)
    return manifest
