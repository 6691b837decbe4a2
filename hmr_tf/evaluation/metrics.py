"""Pose and shape metrics as pure, batched numpy functions.

Symbols: N examples, J joints, V vertices. Functions that align by the pelvis take the 14 LSP
joints (joints.LSP_14 order) and put the pelvis at the midpoint of the hips, as the original's
eval_util.align_by_pelvis does.

Units: 3D errors come out in the unit of the inputs (hmr_tf.evaluation.evaluate passes
millimetres, as the original scales metres by 1000 before compute_errors); the 3D PCK and AUC
thresholds are in millimetres; 2D PCK is a fraction of the torso, so any 2D unit works.
PCK and AUC are percentages.
"""

import numpy as np

from hmr_tf import joints

# MPI-INF-3DHP's evaluation (mpii_compute_3d_pck.m): a joint is correct if its error is below
# 150 mm; AUC is the mean PCK over the thresholds 0:5:150 mm (31 of them).
PCK_THRESHOLD_MM = 150.0
AUC_THRESHOLDS_MM = np.linspace(0.0, 150.0, 31)
# LSP's 2D PCK (the MPII benchmark's evaluation code, Sapp & Taskar 2013): a joint is correct
# within 0.2 × the torso, the distance from the left shoulder to the right hip.
PCK2D_ALPHA = 0.2

_HIPS = joints.LSP_14.indices(["left_hip", "right_hip"])
_TORSO = joints.LSP_14.indices(["left_shoulder", "right_hip"])


def pelvis(points):
  """The midpoint of the hips. [..., 14, D] LSP joints -> [..., D]."""
  points = np.asarray(points)
  return (points[..., _HIPS[0], :] + points[..., _HIPS[1], :]) / 2.0


def align_by_pelvis(points):
  """Moves the pelvis to the origin. [..., 14, D] LSP joints -> [..., 14, D]."""
  points = np.asarray(points)
  return points - pelvis(points)[..., None, :]


def similarity_align(source, target):
  """`source` moved by the similarity (s, R, t) that best fits it to `target`.

  The original's compute_similarity_transform, batched: least squares over s·R·x + t with R a
  proper rotation (Umeyama 1991; a reflection is never chosen).

  Args:
    source: [N, P, D] points.
    target: [N, P, D] points.

  Returns:
    [N, P, D]: s·R·source + t.
  """
  source = np.asarray(source, np.float64)
  target = np.asarray(target, np.float64)
  mu_source = source.mean(axis=1, keepdims=True)
  mu_target = target.mean(axis=1, keepdims=True)
  x, y = source - mu_source, target - mu_target
  k = np.einsum("npi,npj->nij", x, y)  # [N, D, D], the original's K = X1·X2ᵀ
  u, _, vh = np.linalg.svd(k)
  # Flip the last singular direction where U·Vᵀ is a reflection, so that det(R) = +1.
  fix = np.broadcast_to(np.eye(k.shape[-1]), k.shape).copy()
  fix[:, -1, -1] = np.sign(np.linalg.det(u @ vh))
  rotation = np.swapaxes(vh, 1, 2) @ fix @ np.swapaxes(u, 1, 2)  # R = V·Z·Uᵀ
  scale = (np.trace(rotation @ k, axis1=1, axis2=2)
           / np.sum(np.square(x), axis=(1, 2)))  # [N]
  return scale[:, None, None] * np.einsum("nij,npj->npi", rotation, x) + mu_target


def joint_errors(pred, gt, procrustes=False):
  """Per-joint distances after pelvis alignment, and optionally after Procrustes.

  Args:
    pred: [N, 14, 3] predicted LSP joints.
    gt: [N, 14, 3] ground-truth LSP joints.
    procrustes: also align pred to gt with similarity_align (PA: "Procrustes-aligned").

  Returns:
    [N, 14] Euclidean distances.
  """
  pred, gt = align_by_pelvis(pred), align_by_pelvis(gt)
  if procrustes:
    pred = similarity_align(pred, gt)
  return np.linalg.norm(pred - gt, axis=-1)


def mpjpe(pred, gt):
  """Mean per-joint position error after pelvis alignment. [N, 14, 3] twice -> [N]."""
  return joint_errors(pred, gt).mean(axis=-1)


def pa_mpjpe(pred, gt):
  """MPJPE after pelvis and similarity Procrustes alignment. [N, 14, 3] twice -> [N]."""
  return joint_errors(pred, gt, procrustes=True).mean(axis=-1)


def pck(errors, threshold=PCK_THRESHOLD_MM):
  """Percentage of joint errors (any shape, e.g. [N, J] from joint_errors) below threshold."""
  return 100.0 * np.mean(np.asarray(errors) < threshold)


def auc(errors, thresholds=AUC_THRESHOLDS_MM):
  """Area under the PCK curve: the mean of pck(errors, t) over `thresholds`, in percent."""
  errors = np.asarray(errors)
  return float(np.mean([pck(errors, t) for t in thresholds]))


def pve(pred_vertices, gt_vertices, pred_joints, gt_joints):
  """Mean per-vertex error, each mesh moved so that its own pelvis is at the origin.

  Args:
    pred_vertices: [N, V, 3].
    gt_vertices: [N, V, 3], the same mesh topology.
    pred_joints: [N, 14, 3] LSP joints of the predicted mesh (they give its pelvis).
    gt_joints: [N, 14, 3] LSP joints of the ground-truth mesh.

  Returns:
    [N].
  """
  pred = np.asarray(pred_vertices) - pelvis(pred_joints)[:, None, :]
  gt = np.asarray(gt_vertices) - pelvis(gt_joints)[:, None, :]
  return np.linalg.norm(pred - gt, axis=-1).mean(axis=-1)


def torso(points):
  """The torso's length, left shoulder to right hip: [..., 14, D] LSP points -> [...]."""
  points = np.asarray(points, np.float64)
  return np.linalg.norm(points[..., _TORSO[0], :] - points[..., _TORSO[1], :], axis=-1)


def error2d(pred, gt, visible):
  """Per-joint 2D distance as a fraction of the torso, the left shoulder to the right hip.

  Args:
    pred: [N, 14, 2] predicted LSP keypoints.
    gt: [N, 14, 2] ground-truth keypoints, in the same unit.
    visible: [N, 14] where the ground truth is labelled.

  Returns:
    [N, 14] float, NaN where not scored (the joint is not labelled, or the torso is not: both
    its ends must be labelled and apart).
  """
  gt = np.asarray(gt, np.float64)
  visible = np.asarray(visible, bool)
  length = torso(gt)  # [N]
  has_torso = visible[:, _TORSO[0]] & visible[:, _TORSO[1]] & (length > 0)
  distance = np.linalg.norm(np.asarray(pred, np.float64) - gt, axis=-1)  # [N, 14]
  with np.errstate(divide="ignore", invalid="ignore"):
    return np.where(visible & has_torso[:, None], distance / length[:, None], np.nan)


def pck2d(pred, gt, visible, alpha=PCK2D_ALPHA):
  """Per-joint 2D correctness within alpha × the torso (LSP's PCK; see error2d).

  Returns:
    [N, 14] float: 1 correct, 0 wrong, NaN where not scored.
  """
  error = error2d(pred, gt, visible)
  return np.where(np.isnan(error), np.nan, (error <= alpha).astype(np.float64))
