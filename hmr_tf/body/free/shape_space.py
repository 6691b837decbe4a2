"""SMPL's 10-dim shape space from sampled MakeHuman bodies: sampling, T-posing, PCA.

Bodies are drawn as people are (age, stature in metres, weight, muscle, sex, ancestry), turned
into MakeHuman slider values, posed into SMPL's T-pose, centred on the pelvis, and summarised by
PCA with components scaled by their standard deviation, so that β ~ N(0, I).

Symbols: B bodies, N mesh vertices (body, then joint cubes), V body vertices, P posed points
(rig.POINTS), S shape components.
"""

import numpy as np

from hmr_tf.body.free import makehuman
from hmr_tf.body.free import rig as rig_lib

GENDERS = ("neutral", "male", "female")
# MakeHuman's gender slider (0 female, 1 male) per model: a little spread within each sex.
_GENDER_SLIDER = {"neutral": (0.0, 1.0), "male": (0.85, 1.0), "female": (0.0, 0.15)}
# Adult stature in metres (mean, standard deviation), for a female (slider 0) and male (1)
# body; in between it is interpolated. Draws are kept within 2.5 standard deviations.
_STATURE = {"female": (1.62, 0.08), "male": (1.76, 0.085)}
# Below 25 MakeHuman mixes in its child target (12 cm shorter at 20): adults only.
_AGES = (25.0, 75.0)
_CHUNK = 100  # bodies posed at a time, to bound memory


def sample_sliders(gender, num_bodies, seed):
  """Random MakeHuman slider values and target statures for `num_bodies` bodies.

  Returns:
    (sliders: name -> [B] values, the "height" slider still to be fitted; stature [B] metres).
  """
  rng = np.random.default_rng([seed, GENDERS.index(gender)])
  low, high = _GENDER_SLIDER[gender]
  sex = rng.uniform(low, high, num_bodies)
  races = rng.dirichlet(np.ones(len(makehuman.RACES)), num_bodies)
  sliders = {
      "gender": sex,
      "age": makehuman.age_slider(rng.uniform(*_AGES, num_bodies)),
      "muscle": rng.uniform(0, 1, num_bodies),
      "weight": rng.uniform(0, 1, num_bodies),
      "height": np.full(num_bodies, 0.5),
      "proportions": rng.uniform(0, 1, num_bodies),
      "cupsize": rng.uniform(0, 1, num_bodies),
      "firmness": rng.uniform(0, 1, num_bodies),
      **{race: races[:, i] for i, race in enumerate(makehuman.RACES)},
  }
  (mean_f, sd_f), (mean_m, sd_m) = _STATURE["female"], _STATURE["male"]
  stature = (mean_f + sex * (mean_m - mean_f)
             + (sd_f + sex * (sd_m - sd_f)) * np.clip(rng.normal(size=num_bodies), -2.5, 2.5))
  return sliders, stature


def _with(sliders, **changes):
  return {**sliders, **{k: np.broadcast_to(v, sliders["gender"].shape) for k, v in changes.items()}}


def fit_height_slider(sliders, stature, mesh, files):
  """The sliders with "height" set so that each body stands `stature` metres tall.

  The slider moves MakeHuman's min/max-height targets linearly on each side of 0.5, so the
  stature is close to piecewise linear in it: measure it at 0, 0.5 and 1 and invert.

  Returns:
    (sliders, target names [T], offsets [T, N·3]): the names and offsets of every target the
    fitted bodies use.
  """
  settings = [_with(sliders, height=h) for h in (0.0, 0.5, 1.0)]
  weights = [makehuman.target_weights(s, files) for s in settings]
  names = sorted(set().union(*weights))
  offsets = makehuman.read_targets(files, names, mesh)
  heights = np.stack([body_stature(mesh, makehuman.weight_matrix(w, names), offsets)
                      for w in weights])  # [3, B]
  low = 0.5 * (stature - heights[0]) / (heights[1] - heights[0])
  high = 0.5 + 0.5 * (stature - heights[1]) / (heights[2] - heights[1])
  slider = np.clip(np.where(stature < heights[1], low, high), 0.0, 1.0)
  return _with(sliders, height=slider), names, offsets


def body_stature(mesh, weights, offsets):
  """[B] top-to-sole height in metres of the A-posed bodies base + weights · offsets."""
  ys = mesh.vertices[:mesh.num_body, 1] + weights @ offsets[:, 1:3 * mesh.num_body:3]
  return ys.max(axis=1) - ys.min(axis=1)


def t_posed_bodies(mesh, rig, weights, offsets):
  """Builds, T-poses and pelvis-centres every body.

  Args:
    mesh: makehuman.BaseMesh.
    rig: rig_lib.Rig.
    weights: [B, T] target weights.
    offsets: [T, N·3] target offsets.

  Returns:
    (body vertices [B, V, 3], points [B, P, 3] (rig_lib.POINTS)), the pelvis at the origin.
  """
  bodies, points = [], []
  for start in range(0, len(weights), _CHUNK):
    chunk = weights[start:start + _CHUNK]
    a_pose = mesh.vertices + (chunk @ offsets).reshape(len(chunk), *mesh.vertices.shape)
    body, posed = rig_lib.t_pose(rig, a_pose)
    pelvis = posed[:, rig_lib.POINTS.index("pelvis")][:, None]
    bodies.append(body - pelvis)
    points.append(posed - pelvis)
  return np.concatenate(bodies), np.concatenate(points)


def pca(bodies, num_components):
  """Mean and scaled principal components of the bodies.

  Components are scaled by their standard deviation (β ~ N(0, I) reproduces the sample), the
  first signed so that + is taller, the others so that the sum of their entries cubed is
  positive.

  Args:
    bodies: [B, V, 3].
    num_components: S.

  Returns:
    (mean [V, 3], shapedirs [V, 3, S], explained [S] fraction of the variance per component).
  """
  num_bodies, num_vertices, _ = bodies.shape
  mean = bodies.mean(axis=0)
  centred = (bodies - mean).reshape(num_bodies, -1)
  # Eigenvectors of the small Gram matrix [B, B] instead of an SVD of the [B, V·3] data.
  eigenvalues, eigenvectors = np.linalg.eigh(centred @ centred.T)
  order = np.argsort(eigenvalues)[::-1][:num_components]
  singular = np.sqrt(eigenvalues[order])
  components = (eigenvectors[:, order].T @ centred) / singular[:, None]  # [S, V·3] unit rows
  components *= (singular / np.sqrt(num_bodies - 1))[:, None]
  components = components.reshape(num_components, num_vertices, 3)
  # Σ entry³ rather than the largest entry: the body is left-right symmetric, so the largest
  # entries come in mirrored pairs whose x parts tie with opposite signs.
  signs = np.sign(np.sum(components.reshape(num_components, -1) ** 3, axis=1))
  signs[0] = np.sign(np.ptp(components[0][:, 1] + mean[:, 1]) - np.ptp(mean[:, 1]))
  shapedirs = (components * signs[:, None, None]).transpose(1, 2, 0)
  return mean, shapedirs, eigenvalues[order] / eigenvalues.sum()
