"""MakeHuman's base mesh, its macro shape targets and the slider maps that weight them.

A MakeHuman body is base + Σ_t w_t · target_t, each weight a product of slider levels
(MakeHuman's human.py and humanmodifier.py): e.g. "universal-female-young-averagemuscle-
maxweight" weighs female · young · averagemuscle · maxweight. Units are MakeHuman's decimetres,
scaled here to metres; the axes are already SMPL's (y up, facing +z, the body's left at +x).

Symbols: B bodies, N kept vertices (the body's, then the joint cubes'), T targets.
"""

import dataclasses
import itertools
import string

import numpy as np

SCALE = 0.1  # MakeHuman's decimetres -> metres

# MakeHuman's macro modifiers: one target file per combination of the fields' levels.
_FAMILIES = (
    "macrodetails/universal-{gender}-{age}-{muscle}-{weight}",
    "macrodetails/{race}-{gender}-{age}",
    "macrodetails/height/{gender}-{age}-{muscle}-{weight}-{height}",
    "macrodetails/proportions/{gender}-{age}-{muscle}-{weight}-{proportions}",
    "breast/{gender}-{age}-{muscle}-{weight}-{cup}-{firmness}",
)
RACES = ("african", "asian", "caucasian")
# Sliders of a body, each in [0, 1] (the races are proportions summing to 1).
SLIDERS = ("gender", "age", "muscle", "weight", "height", "proportions", "cupsize",
           "firmness") + RACES

# Ages in years at MakeHuman's age slider 0, 0.5 and 1.
_MIN_AGE, _MID_AGE, _MAX_AGE = 1.0, 25.0, 90.0


@dataclasses.dataclass(frozen=True)
class BaseMesh:
  """MakeHuman's base mesh (hm08) in metres, reduced to the body and the joint cubes.

  Attributes:
    vertices: [N, 3] the body's vertices first (`num_body` of them), then the joint cubes'.
    quads: [Q, 4] the body's faces, counter-clockwise seen from outside.
    num_body: how many of `vertices` belong to the body.
    groups: vertex group name ("Left", "Mid", "Right", "joint-l-elbow", ...) -> [n] indices
      into `vertices`.
    original_index: [N] each vertex's index in base.obj, which targets and weights refer to.
  """

  vertices: np.ndarray
  quads: np.ndarray
  num_body: int
  groups: dict
  original_index: np.ndarray

  def reindex(self, original):
    """base.obj indices -> indices into `vertices`, -1 where the vertex was dropped."""
    return _reindex(self.original_index, original)


def _reindex(kept, original):
  table = np.full(max(kept.max(), np.max(original, initial=0)) + 1, -1, np.int64)
  table[kept] = np.arange(len(kept))
  return table[np.asarray(original)]


def read_base_mesh(files) -> BaseMesh:
  """Reads 3dobjs/base.obj and its vertex groups, keeping the body and the joint cubes.

  The helper geometry (eyes, teeth, tongue, clothes proxies) is dropped; the joint cubes stay
  because the targets move them too, and their centroids are the rig's joints.
  """
  vertices, faces = [], []
  for line in files.read("3dobjs/base.obj").decode().splitlines():
    if line.startswith("v "):
      vertices.append(line.split()[1:4])
    elif line.startswith("f "):
      faces.append([int(corner.split("/")[0]) - 1 for corner in line.split()[1:]])
  ranges = files.json("mesh_metadata/basemesh_vertex_groups.json")
  groups = {name: np.concatenate([np.arange(a, b + 1) for a, b in spans])
            for name, spans in ranges.items()}
  body = groups["body"]
  if not np.array_equal(body, np.arange(len(body))):
    raise ValueError(f"{files.path}: expected the body's vertices first in base.obj")
  keep = np.concatenate([body, groups["JointCubes"]])
  quads = np.array([f for f in faces if len(f) == 4 and max(f) < len(body)], np.int64)
  return BaseMesh(
      vertices=np.array(vertices, np.float64)[keep] * SCALE, quads=quads, num_body=len(body),
      groups={name: _reindex(keep, indices) for name, indices in groups.items()
              if name in ("Left", "Mid", "Right") or name.startswith("joint-")},
      original_index=keep)


def age_slider(years):
  """MakeHuman's age slider for an age in years (1 -> 0, 25 -> 0.5, 90 -> 1)."""
  years = np.asarray(years, np.float64)
  return np.where(years < _MID_AGE, (years - _MIN_AGE) / (2 * (_MID_AGE - _MIN_AGE)),
                  0.5 + (years - _MID_AGE) / (2 * (_MAX_AGE - _MID_AGE)))


def _three_levels(value, low, high, middle):
  """A slider's weights on its low, middle and high targets (MakeHuman's piecewise map)."""
  upper = np.maximum(0.0, 2 * value - 1)
  lower = np.maximum(0.0, 1 - 2 * value)
  return {low: lower, middle: 1 - upper - lower, high: upper}


def _age_levels(age):
  # Baby at 0, child at 0.1875 (11 years), young at 0.5 (25 years), old at 1 (90 years).
  young_rising = np.clip((age - 0.1875) / 0.3125, 0, 1)
  old = np.maximum(0.0, 2 * age - 1)
  child = np.where(age < 0.5, np.minimum(1, age / 0.1875) - young_rising, 0.0)
  return {"baby": np.maximum(0.0, 1 - age / 0.1875), "child": np.maximum(child, 0.0),
          "young": np.where(age < 0.5, young_rising, 1 - old), "old": old}


def _levels(sliders):
  """Field name -> {level name: [B] weight} for the fields of _FAMILIES."""
  # Levels with no target of their own ("average" height, "regular" proportions) weigh base.
  return {
      "gender": {"female": 1 - sliders["gender"], "male": sliders["gender"]},
      "age": _age_levels(sliders["age"]),
      "muscle": _three_levels(sliders["muscle"], "minmuscle", "maxmuscle", "averagemuscle"),
      "weight": _three_levels(sliders["weight"], "minweight", "maxweight", "averageweight"),
      "height": _three_levels(sliders["height"], "minheight", "maxheight", None),
      "proportions": _three_levels(sliders["proportions"], "uncommonproportions",
                                   "idealproportions", None),
      "cup": _three_levels(sliders["cupsize"], "mincup", "maxcup", "averagecup"),
      "firmness": _three_levels(sliders["firmness"], "minfirmness", "maxfirmness",
                                "averagefirmness"),
      "race": {race: sliders[race] for race in RACES},
  }


def target_weights(sliders, files):
  """Weight of every target file that some body uses.

  Args:
    sliders: name -> [B] slider values (SLIDERS).
    files: wheel.MakeHumanFiles, to skip combinations that have no target file.

  Returns:
    target name -> [B] weights, for the targets with a non-zero weight in some body.
  """
  levels = _levels(sliders)
  weights = {}
  for family in _FAMILIES:
    fields = [field for _, field, _, _ in string.Formatter().parse(family) if field]
    for combination in itertools.product(*(levels[field].items() for field in fields)):
      if any(level is None for level, _ in combination):
        continue
      name = family.format(**{field: level for field, (level, _) in zip(fields, combination)})
      weight = np.prod([w for _, w in combination], axis=0)
      if np.any(weight > 0) and files.exists(f"targets/{name}.target.gz"):
        weights[name] = weight
  return weights


def weight_matrix(weights, names):
  """[B, T] columns of `weights` (name -> [B]) in the order of `names`, zero where absent."""
  size = len(next(iter(weights.values())))
  return np.stack([weights.get(name, np.zeros(size)) for name in names], axis=1)


def read_targets(files, names, mesh) -> np.ndarray:
  """[T, N·3] offsets in metres of the named targets on the kept vertices of `mesh`."""
  deltas = np.zeros((len(names), len(mesh.original_index), 3))
  for row, name in enumerate(names):
    indices, offsets = files.target(name)
    kept = mesh.reindex(indices)
    deltas[row, kept[kept >= 0]] = offsets[kept >= 0] * SCALE
  return deltas.reshape(len(names), -1)


def body_triangles(mesh) -> np.ndarray:
  """[2Q, 3] the body's quads split along their shorter diagonal, orientation kept."""
  corners = mesh.vertices[mesh.quads]  # [Q, 4, 3]
  split_02 = (np.linalg.norm(corners[:, 0] - corners[:, 2], axis=1)
              <= np.linalg.norm(corners[:, 1] - corners[:, 3], axis=1))
  quads = np.where(split_02[:, None], mesh.quads, np.roll(mesh.quads, -1, axis=1))
  return np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
