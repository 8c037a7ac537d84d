"""Bodies of every catalog variant, made once per PyBullet client and reused by every later scene.

Making a body costs ~0.3 ms in PyBullet (most of it the renderer's copy of its mesh) and a fresh
client needs the Panda again (27 ms), so resets reuse bodies instead of rebuilding the client.
Bullet's results depend on where bodies sit in its collision-object array (it numbers simulation
islands by that position, and the solver's contact order follows those numbers), so bodies are
made in one fixed order, variant by variant in catalog order, and the objects of a scene take a
variant's instances in spec order. Where an object's body sits relative to the others is then a
function of the scene alone, never of the scenes before it, however many instances exist.

Bodies no scene uses are parked: far below the floor, asleep, invisible and colliding with nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import pybullet

from workbench_gym.scenes.catalog import CATALOG, CONTAINERS
from workbench_gym.scenes.geometry import build_geometry
from workbench_gym.scenes.spec import ObjectSpec
from workbench_gym.sim.bodies import BodyFrame, VariantShapes, create_body, create_variant_shapes, variant_dynamics

VariantKey = tuple[str, str]  # (category, size)
#: Instances made of every tool variant at first: enough for 99 % of scenes of 20 tools (measured over 120 seeds).
DEFAULT_TOOL_INSTANCES = 4
PARKING = (0.0, 0.0, -50.0)
#: Collision filter (group, mask) of a parked body: it makes no broadphase pair with anything.
NO_COLLISION = (0, 0)


def catalog_variants() -> list[VariantKey]:
    """Every (category, size) of the catalog, in the one order pools make bodies in."""
    return [(name, size) for name, category in CATALOG.items() for size in category.sizes]


def variant_counts(objects: Iterable[ObjectSpec]) -> Counter:
    """How many bodies of each variant a list of spec objects needs."""
    return Counter((obj.category, obj.size) for obj in objects)


def capacity_for(needed: Mapping[VariantKey, int], current: Mapping[VariantKey, int] | None = None) -> dict[VariantKey, int]:
    """Instances to make of each variant so that `needed` fits, never fewer than `current`.

    Tool variants start with DEFAULT_TOOL_INSTANCES; one a scene needs more of gets twice as many
    (at least one more than the scene needs), so that a pool rarely has to grow (growing means a new
    client). Containers get what scenes have needed.
    """
    current = dict(current or {})
    out = {}
    for key in catalog_variants():
        have = current.get(key, 0 if key[0] in CONTAINERS else DEFAULT_TOOL_INSTANCES)
        need = needed.get(key, 0)
        out[key] = have if need <= have else need if key[0] in CONTAINERS else max(need + 1, 2 * have)
    return out


def park(client, body: int) -> None:
    """Take a body out of the scene: parked, still, colliding with nothing, static, asleep and invisible.

    Bullet visits every body each physics step; a static one costs least (~0.15 us a visit).
    """
    client.resetBasePositionAndOrientation(body, PARKING, (0, 0, 0, 1))
    client.resetBaseVelocity(body, (0, 0, 0), (0, 0, 0))
    client.setCollisionFilterGroupMask(body, -1, *NO_COLLISION)
    client.changeDynamics(body, -1, mass=0.0, activationState=pybullet.ACTIVATION_STATE_SLEEP)
    client.changeVisualShape(body, -1, rgbaColor=[1, 1, 1, 0])


class BodyPool:
    """`capacity[variant]` bodies of each variant, made in catalog order, all parked until a scene takes them."""

    def __init__(self, client, capacity: Mapping[VariantKey, int]):
        self.capacity = {key: int(capacity.get(key, 0)) for key in catalog_variants()}
        self.shapes: dict[VariantKey, VariantShapes] = {}
        self.bodies: dict[VariantKey, list[int]] = {}
        for key, count in self.capacity.items():
            if count == 0:
                continue
            self.shapes[key] = create_variant_shapes(client, build_geometry(*key))
            mass = 0.0 if key[0] in CONTAINERS else variant_dynamics(build_geometry(*key))[0]
            self.bodies[key] = [create_body(client, self.shapes[key], mass, PARKING) for _ in range(count)]
            for body in self.bodies[key]:
                park(client, body)

    def shortfall(self, objects: Iterable[ObjectSpec]) -> dict[VariantKey, int]:
        """Variants the objects need more instances of than the pool has, with the number needed."""
        return {key: n for key, n in variant_counts(objects).items() if n > self.capacity.get(key, 0)}

    def assign(self, objects: Iterable[ObjectSpec]) -> list[tuple[int, BodyFrame]]:
        """(body, frame) of each object: the i-th object of a variant, in spec order, takes that variant's i-th body."""
        taken: Counter = Counter()
        out = []
        for obj in objects:
            key = (obj.category, obj.size)
            out.append((self.bodies[key][taken[key]], self.shapes[key].frame))
            taken[key] += 1
        return out

    @property
    def all_bodies(self) -> list[int]:
        return [body for bodies in self.bodies.values() for body in bodies]
