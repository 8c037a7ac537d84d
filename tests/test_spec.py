import json
import math
import re

import pytest

from workbench_gym.scenes import ObjectSpec, Pose, SceneSpec, SceneSpecError, sample_clutter, validate


def test_json_round_trip(spec12):
    text = spec12.to_json()
    again = SceneSpec.from_json(text)
    assert again == spec12
    assert again.to_json() == text


def _mutated(spec, edit):
    data = json.loads(spec.to_json())
    edit(data)
    return data


@pytest.mark.parametrize(
    "edit,field,message",
    [
        (lambda d: d["tools"][0].update(category="spanner"), "tools[0].category", "unknown category"),
        (lambda d: d["tools"][0].update(size="huge"), "tools[0].size", "unknown size"),
        (lambda d: d["tools"][0].update(colour="mauve"), "tools[0].colour", "unknown colour"),
        (lambda d: d["tools"][1]["pose"].update(position=[float("nan"), 0.0, 0.75]), "tools[1].pose.position", "finite"),
        (lambda d: d["tools"][1]["pose"].update(rpy=[0.0, 0.0, float("inf")]), "tools[1].pose.rpy", "finite"),
        (lambda d: d["tools"][2]["pose"].update(position=[3.0, 0.0, 0.75]), "tools[2].pose.position", "off the bench"),
        (lambda d: d["tools"][2]["pose"].update(position=[0.4, 0.0, 0.5]), "tools[2].pose.position", "below the bench"),
        (lambda d: d["tools"][1].update(pose=d["tools"][0]["pose"]), "tools[1].pose.position", "overlaps tools[0]"),
        (lambda d: d["tools"][1].update(name=d["tools"][0]["name"]), "tools[1].name", "duplicate name"),
        (lambda d: d["bench"].update(size=[0.9, 0.0, 0.05]), "bench.size[1]", "positive"),
        (lambda d: d["bench"].update(size=[0.9, -1.0, 0.05]), "bench.size[1]", "positive"),
        (lambda d: d["cameras"][0].update(fov=0), "cameras[0].fov", "(0, 180)"),
        (lambda d: d["cameras"][0].update(width=-3), "cameras[0].width", "positive integer"),
        (lambda d: d["cameras"][0].update(far=0.001), "cameras[0].far", "exceed near"),
        (lambda d: d["cameras"][0].update(mount="ceiling"), "cameras[0].mount", "unknown mount"),
        (lambda d: d["containers"][1]["pose"].update(position=d["containers"][0]["pose"]["position"]), "containers[1].pose.position", "overlaps containers[0]"),
        (lambda d: d["tools"][0].update(bogus=1), "tools[0]", "unexpected keyword"),
        (lambda d: d.update(lights=[]), "lights", "at least one"),
        (lambda d: d.update(version=99), "version", "unsupported"),
    ],
)
def test_bad_specs_name_the_field(spec12, edit, field, message):
    with pytest.raises(SceneSpecError, match=re.escape(message)) as err:
        SceneSpec.from_dict(_mutated(spec12, edit))
    assert err.value.field == field
    assert str(err.value).startswith(field)


def test_tool_on_a_container_wall_is_rejected_but_inside_is_fine(spec12):
    bin_ = next(c for c in spec12.containers if c.name == "bin_middle")
    x, y, z = bin_.pose.position
    screw = ObjectSpec("loose_screw", "screw", "small", "silver", Pose((x, y, z + 0.006)))
    validate(SceneSpec(spec12.bench, [screw], spec12.containers))
    wall_x = x + bin_.geometry.bounds[1, 0] - 0.0025  # the far wall's middle
    on_wall = ObjectSpec("loose_screw", "screw", "small", "silver", Pose((wall_x, y, z + 0.006)))
    with pytest.raises(SceneSpecError, match="overlaps the walls"):
        validate(SceneSpec(spec12.bench, [on_wall], spec12.containers))


def test_malformed_json_is_a_clear_error():
    with pytest.raises(SceneSpecError, match="not valid JSON"):
        SceneSpec.from_json("{tools: ]")
    with pytest.raises(SceneSpecError, match="expected a list"):
        SceneSpec.from_dict({"tools": 3})


def test_tilted_tool_reaching_into_bench_is_rejected(spec12):
    data = _mutated(spec12, lambda d: d["tools"][0]["pose"].update(rpy=[math.pi / 2, 0.0, 0.0]))
    data["tools"] = data["tools"][:1]
    with pytest.raises(SceneSpecError, match="below the bench"):
        SceneSpec.from_dict(data)


def test_display_names_come_from_attributes(spec12):
    tool = spec12.tools[0]
    assert tool.display_name.startswith(f"{tool.size} {tool.colour} ")
    assert sample_clutter(0, 1).tools[0].display_name.count(" ") >= 2
