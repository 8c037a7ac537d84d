"""Per-user folders in the temp dir, where the simulator keeps the files it writes once (meshes, textures)."""

from __future__ import annotations

import getpass
import os
import re
import tempfile
from pathlib import Path


def user_tag() -> str:
    """Who owns the folders: the uid where there is one (POSIX), else the login name made safe for a path.

    A shared temp dir (/tmp) needs one folder per user, as one user cannot replace another's files.
    """
    if hasattr(os, "getuid"):
        return str(os.getuid())
    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in the environment or the password database
        name = "user"
    return re.sub(r"[^A-Za-z0-9.-]+", "-", name) or "user"


def user_temp_folder(kind: str, *suffix: str) -> Path:
    """`<temp dir>/workbench_gym_<kind>_<user>[_<suffix>...]`; not created here."""
    return Path(tempfile.gettempdir()) / "_".join(["workbench_gym", kind, user_tag(), *suffix])
