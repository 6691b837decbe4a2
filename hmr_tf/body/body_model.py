"""BodyModel: the arrays of an SMPL-layout body model, checked once on creation.

Symbols: V vertices, J joints (24 for SMPL), S shape coefficients, F faces,
P = 9·(J−1) pose-corrective features (207 for SMPL), K keypoints of a regressor.
"""

import dataclasses
import functools
import hashlib

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class BodyModel:
  """An SMPL-layout body model as numpy arrays.

  Attributes:
    v_template: [V, 3] rest-pose vertices in metres.
    shapedirs: [V, 3, S] shape blend shapes.
    posedirs: [V, 3, P] pose-corrective blend shapes (zeros when the model has none).
    J_regressor: [J, V] joint regressor from rest vertices.
    weights: [V, J] skinning weights.
    parents: [J] int parent index per joint, -1 for the root.
    faces: [F, 3] int triangle vertex indices.
    regressors: name -> [K, V] extra keypoint regressors, e.g. "cocoplus" [19, V], "h36m" [17, V].
    source: where the model came from (a path or a name), used in messages.
  """

  v_template: np.ndarray
  shapedirs: np.ndarray
  posedirs: np.ndarray
  J_regressor: np.ndarray  # pylint: disable=invalid-name  (SMPL's own name, kept recognisable)
  weights: np.ndarray
  parents: np.ndarray
  faces: np.ndarray
  regressors: dict = dataclasses.field(default_factory=dict)
  source: str = "<memory>"

  def __post_init__(self):
    num_verts = _expect_shape(self, "v_template", (None, 3))[0]
    num_joints = _expect_shape(self, "J_regressor", (None, num_verts))[0]
    _expect_shape(self, "shapedirs", (num_verts, 3, None))
    _expect_shape(self, "posedirs", (num_verts, 3, 9 * (num_joints - 1)))
    _expect_shape(self, "weights", (num_verts, num_joints))
    _expect_shape(self, "parents", (num_joints,))
    _expect_shape(self, "faces", (None, 3))
    for name, regressor in self.regressors.items():
      if np.ndim(regressor) != 2 or np.shape(regressor)[1] != num_verts:
        raise ValueError(f"{self.source}: regressor '{name}' should have shape [K, {num_verts}], "
                         f"found {np.shape(regressor)}")
    parents = np.asarray(self.parents)
    if parents[0] != -1 or np.any(parents[1:] >= np.arange(1, num_joints)) or np.any(parents[1:] < 0):
      raise ValueError(f"{self.source}: parents should be -1 for the root and then point to an "
                       f"earlier joint, found {parents.tolist()}")
    faces = np.asarray(self.faces)
    if faces.size and (faces.min() < 0 or faces.max() >= num_verts):
      raise ValueError(f"{self.source}: faces index vertices outside [0, {num_verts}), "
                       f"found range [{faces.min()}, {faces.max()}]")

  @property
  def num_vertices(self) -> int:
    return self.v_template.shape[0]

  @property
  def num_joints(self) -> int:
    return self.J_regressor.shape[0]

  @property
  def num_betas(self) -> int:
    return self.shapedirs.shape[2]

  @property
  def has_pose_correctives(self) -> bool:
    return bool(np.any(self.posedirs))

  @functools.cached_property
  def fingerprint(self) -> str:
    """sha256 of the model's arrays: two models with equal fingerprints are the same body.

    Floats are hashed as float64 and integers as int64, little-endian, each with its name and
    shape, so the fingerprint does not depend on the file format or the array dtypes a reader
    chose. `source` is not part of it.
    """
    digest = hashlib.sha256()
    fields = [(name, getattr(self, name)) for name in _ARRAY_FIELDS]
    fields += [("regressor/" + name, self.regressors[name]) for name in sorted(self.regressors)]
    for name, array in fields:
      array = np.asarray(array)
      canonical = array.astype("<f8" if array.dtype.kind == "f" else "<i8")
      digest.update(f"{name}{list(array.shape)}".encode())
      digest.update(np.ascontiguousarray(canonical).tobytes())
    return digest.hexdigest()


_ARRAY_FIELDS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "parents",
                 "faces")


def _expect_shape(model, field, expected):
  """Returns the field's shape after checking it against `expected` (None = any size)."""
  shape = np.shape(getattr(model, field))
  if len(shape) != len(expected) or any(e is not None and e != s for e, s in zip(expected, shape)):
    wanted = "[" + ", ".join("?" if e is None else str(e) for e in expected) + "]"
    raise ValueError(f"{model.source}: field '{field}' should have shape {wanted}, found {list(shape)}")
  return shape
