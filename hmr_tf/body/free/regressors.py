"""Keypoint regressors fitted to MakeHuman's joints: SMPL's J_regressor and cocoplus-19.

Each joint is a convex combination of vertices (non-negative weights summing to 1, so it is
translation-equivariant), fitted by NNLS over many bodies. Candidates are the vertices in a
thin slab across the limb or trunk at the joint, skinned to the joint or its neighbours: the
nearest vertices alone fail inside the trunk, where the spine joints sit far behind the skin.

Symbols: B bodies, V vertices, J = 24 SMPL joints, C candidate vertices.
"""

import numpy as np
import scipy.optimize

from hmr_tf import joints

_SLAB = 0.02  # half-width in metres of the slab of candidate vertices
_MIN_CANDIDATES = 12
_SUM_TO_ONE = 100.0  # weight of the Σ w = 1 row against metres of joint error
# Trunk joints with several children: the slab is horizontal.
_UPRIGHT = ("pelvis", "spine1", "spine2", "spine3", "smpl_neck", "head")


def joint_axes(rest_joints, parents):
  """[J, 3] unit direction of the body part through each joint, across which the slab lies.

  Args:
    rest_joints: [J, 3] joints of a mean body.
    parents: [J] parent indices.
  """
  parents = np.asarray(parents)
  axes = np.zeros_like(rest_joints)
  for j, name in enumerate(joints.SMPL_24.names):
    children = np.flatnonzero(parents == j)
    if name in _UPRIGHT:
      axes[j] = (0.0, 1.0, 0.0)
    elif len(children) == 1:
      axes[j] = rest_joints[children[0]] - rest_joints[j]
    else:  # a leaf: along the bone from its parent
      axes[j] = rest_joints[j] - rest_joints[parents[j]]
  return axes / np.linalg.norm(axes, axis=1, keepdims=True)


def candidates(mean_vertices, weights, rest_joints, parents):
  """Candidate vertices per joint: a slab across the joint, skinned to it or its neighbours.

  Args:
    mean_vertices: [V, 3] the mean body.
    weights: [V, J] skinning weights.
    rest_joints: [J, 3] the mean body's joints.
    parents: [J] parent indices.

  Returns:
    A list of J int arrays of vertex indices.
  """
  parents = np.asarray(parents)
  axes = joint_axes(rest_joints, parents)
  result = []
  for j in range(len(parents)):
    near = [j] + ([parents[j]] if parents[j] >= 0 else []) + list(np.flatnonzero(parents == j))
    skinned = weights[:, near].sum(axis=1) > 0.5
    depth = np.abs((mean_vertices - rest_joints[j]) @ axes[j])
    slab = _SLAB
    while np.count_nonzero(skinned & (depth < slab)) < _MIN_CANDIDATES:
      slab *= 1.5
    result.append(np.flatnonzero(skinned & (depth < slab)))
  return result


def fit_point(vertices, targets, candidate):
  """Non-negative weights summing to 1 that best regress the targets from the candidates.

  Args:
    vertices: [B, V, 3] bodies.
    targets: [B, 3] the point in each body.
    candidate: [C] vertex indices to use.

  Returns:
    [V] regressor row, zero outside the candidates.
  """
  system = vertices[:, candidate].transpose(0, 2, 1).reshape(-1, len(candidate))  # [B·3, C]
  system = np.vstack([system, np.full((1, len(candidate)), _SUM_TO_ONE)])
  rhs = np.concatenate([targets.reshape(-1), [_SUM_TO_ONE]])
  solution, _ = scipy.optimize.nnls(system, rhs, maxiter=50 * len(candidate))
  row = np.zeros(vertices.shape[1])
  row[candidate] = solution / solution.sum()
  return row


def fit_joint_regressor(vertices, rest_joints, weights, parents):
  """SMPL's J_regressor [J, V] from bodies [B, V, 3] and their joints [B, J, 3]."""
  groups = candidates(vertices.mean(axis=0), weights, rest_joints.mean(axis=0), parents)
  return np.stack([fit_point(vertices, rest_joints[:, j], group)
                   for j, group in enumerate(groups)])


def face_vertices(mean_vertices, eyeballs, weights, sides):
  """Single vertices for cocoplus's face points and head top, picked on the mean body.

  Args:
    mean_vertices: [V, 3].
    eyeballs: [2, 3] centres of the left and right eyeballs.
    weights: [V, J] skinning weights.
    sides: {"Left", "Mid", "Right"} -> vertex indices (MakeHuman's vertex groups).

  Returns:
    name -> vertex index for "head_top", "nose", "left_eye", "right_eye", "left_ear",
    "right_ear".
  """
  head = weights[:, joints.SMPL_24.index("head")] > 0.5
  in_head = lambda group: np.intersect1d(sides[group], np.flatnonzero(head))
  mid = in_head("Mid")
  picked = {"head_top": np.argmax(mean_vertices[:, 1]),
            "nose": mid[np.argmax(mean_vertices[mid, 2])]}
  for i, (side, group, sign) in enumerate((("left", "Left", 1.0), ("right", "Right", -1.0))):
    # The pupil sits ~1 cm in front of the eyeball's centre.
    pupil = eyeballs[i] + (0.0, 0.0, 0.01)
    picked[f"{side}_eye"] = np.argmin(np.linalg.norm(mean_vertices - pupil, axis=1))
    # The ear: the outermost point of the head at eye height.
    side_vertices = in_head(group)
    level = side_vertices[np.abs(mean_vertices[side_vertices, 1] - eyeballs[i, 1]) < 0.02]
    picked[f"{side}_ear"] = level[np.argmax(sign * mean_vertices[level, 0])]
  return picked


def cocoplus_regressor(j_regressor, face):
  """HMR's 19 keypoints [19, V]: LSP-14 (limbs from SMPL's joints, the neck between the
  shoulders, the head top at the crown) and the face points, single vertices from `face`."""
  smpl = joints.SMPL_24.names
  rows = []
  for name in joints.COCOPLUS_19.names:
    if name in smpl:
      rows.append(j_regressor[smpl.index(name)])
    elif name == "neck":
      rows.append(0.5 * (j_regressor[smpl.index("left_shoulder")]
                         + j_regressor[smpl.index("right_shoulder")]))
    else:
      row = np.zeros(j_regressor.shape[1])
      row[face[name]] = 1.0
      rows.append(row)
  return np.stack(rows)
