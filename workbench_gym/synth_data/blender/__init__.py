# SPDX-License-Identifier: GPL-3.0-or-later
"""The GPL-3.0 BlenderProc render program (`render_scene.py`, licence in LICENSE beside it).

It runs in a child process started by `workbench_gym.synth_data.blenderproc_renderer`; nothing in the
Apache-2.0 package imports it. This file only makes the folder a package, so installs ship the program.
"""
