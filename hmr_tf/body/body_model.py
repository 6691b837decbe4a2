"""BodyModel: the arrays of an SMPL-layout body model, checked once on creation.

Symbols: V vertices, J joints (24 for SMPL), S shape coefficients, F faces,
P = 9·(J−1) pose-corrective features (207 for SMPL), K keypoints of a regressor.
"""

import dataclasses
import functools
import hashlib

import numpy as np

from hmr_tf import checks


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
    num_verts = self._check("v_template", ("V", 3))[0]
    num_joints = self._check("J_regressor", ("J", num_verts))[0]
    self._check("shapedirs", (num_verts, 3, "S"))
    self._check("posedirs", (num_verts, 3, 9 * (num_joints - 1)))
    self._check("weights", (num_verts, num_joints))
    parents = checks.array(self.parents, (num_joints,), "parents", self.source, dtype=None,
                           integer=True)
    checks.indices(self.faces, ("F", 3), num_verts, "faces", self.source)
    for name, regressor in self.regressors.items():
      checks.array(regressor, ("K", num_verts), f"regressor '{name}'", self.source, dtype=None)
    if num_joints < 1 or parents[0] != -1 or np.any(parents[1:] >= np.arange(1, num_joints)) or (
        np.any(parents[1:] < 0)):
      raise checks.BadInput(f"{self.source}: parents should be -1 for the root and then point "
                            f"to an earlier joint, found {parents.tolist()}")

  def _check(self, field, shape):
    """The field's shape, after checking it (and that it holds numbers) against `shape`."""
    return checks.array(getattr(self, field), shape, field, self.source, dtype=None).shape

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
      if array.dtype.kind == "f":
        canonical = canonical + 0.0  # -0.0 == +0.0 but hashes differently: one zero
      digest.update(f"{name}{list(array.shape)}".encode())
      digest.update(np.ascontiguousarray(canonical).tobytes())
    return digest.hexdigest()


_ARRAY_FIELDS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "parents",
                 "faces")
