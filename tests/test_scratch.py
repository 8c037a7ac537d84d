"""Per-user temp folders: named by uid where there is one, by a path-safe login name elsewhere (Windows)."""

import getpass
import os
import tempfile
from pathlib import Path

import pytest

from workbench_gym.sim import bodies, scratch


@pytest.fixture
def no_uid(monkeypatch, tmp_path):
    """A platform without `os.getuid` (Windows), with its temp dir in tmp_path."""
    monkeypatch.delattr(os, "getuid", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX only")
def test_posix_folders_are_named_by_uid():
    folder = scratch.user_temp_folder("panda", "abc123")
    assert folder.parent == Path(tempfile.gettempdir())
    assert folder.name == f"workbench_gym_panda_{os.getuid()}_abc123"


def test_without_a_uid_the_login_name_names_the_folder(no_uid, monkeypatch, tmp_path):
    monkeypatch.setattr(getpass, "getuser", lambda: "Jane Doe\\dev:1")
    assert scratch.user_temp_folder("panda", "abc123") == tmp_path / "workbench_gym_panda_Jane-Doe-dev-1_abc123"


def test_without_a_login_name_the_folder_is_still_made(no_uid, monkeypatch, tmp_path):
    def missing():
        raise OSError("no username set in the environment")

    monkeypatch.setattr(getpass, "getuser", missing)
    path = bodies._write_once("probe.bin", b"\x01\x02")
    assert os.path.dirname(path) == str(tmp_path / "workbench_gym_assets_user")
    assert open(path, "rb").read() == b"\x01\x02"
