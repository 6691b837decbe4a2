"""HMR's losses, exactly as the original computes them (src/ops.py, src/trainer.py; anchors §1.3).

Symbols: B batch, K keypoints (19 cocoplus), N discriminator inputs, D = 25 discriminator outputs.

The original reduces its supervised losses with TF1's SUM_BY_NONZERO_WEIGHTS: the weighted sum
divided by the number of nonzero weights after broadcasting to the values. For the keypoints
that is the mean over visible coordinates; for the 3D losses the mean over the elements of the
examples that have ground truth. Every loss here is such a sum over a divisor, and takes
`all_reduce`, a function applied to the divisor before dividing. Under a distribution strategy
pass the replica context's sum: each replica then divides its own sum by the count of the
GLOBAL batch, so the replicas' losses (and gradients, which the strategy sums) add up to those of
the whole batch, exactly as on one device.
"""

import tensorflow as tf

from hmr_tf import geometry
from hmr_tf import joints

_LEFT_HIP = joints.LSP_14.index("left_hip")
_RIGHT_HIP = joints.LSP_14.index("right_hip")


def _identity(x):
  return x


def weighted_mean(values, weights, all_reduce=_identity):
  """Σ weights · values / (number of nonzero weights broadcast to values): TF1's
  SUM_BY_NONZERO_WEIGHTS reduction; 0 where no weight is nonzero.

  Args:
    values: [B, ...] float.
    weights: broadcastable to values.
    all_reduce: applied to the divisor (see the module docstring).

  Returns:
    [] float.
  """
  weights = tf.broadcast_to(tf.cast(weights, values.dtype), tf.shape(values))
  count = tf.reduce_sum(tf.cast(tf.not_equal(weights, 0.0), values.dtype))
  return tf.math.divide_no_nan(tf.reduce_sum(weights * values), all_reduce(count))


def keypoint_loss(keypoints, predicted, all_reduce=_identity):
  """L1 distance of the 2D keypoints, averaged over the visible coordinates (the original's
  keypoint_l1_loss; its docstring's factor 0.5 is not in its code, nor here).

  Args:
    keypoints: [B, K, 3] ground truth (x, y, visibility) in [-1, 1] crop coordinates.
    predicted: [B, K, 2] projected keypoints.
    all_reduce: see the module docstring.

  Returns:
    [] float.
  """
  return weighted_mean(tf.abs(keypoints[..., :2] - predicted), keypoints[..., 2:], all_reduce)


def align_by_pelvis(points):
  """Moves LSP-14 joints so that the pelvis, the midpoint of the hips, is at the origin.

  Args:
    points: [B, 14, 3] in LSP order.

  Returns:
    [B, 14, 3].
  """
  pelvis = 0.5 * (points[:, _LEFT_HIP] + points[:, _RIGHT_HIP])
  return points - pelvis[:, None]


def joints3d_loss(joints3d, predicted, has_3d, all_reduce=_identity):
  """0.5 · mean squared error of pelvis-aligned 3D joints, over the examples with 3D truth.

  Args:
    joints3d: [B, 14, 3] ground truth, LSP order, metres.
    predicted: [B, 14, 3] predicted LSP joints (the first 14 cocoplus keypoints).
    has_3d: [B] 1 where joints3d is ground truth, else 0.
    all_reduce: see the module docstring.

  Returns:
    [] float.
  """
  error = tf.square(align_by_pelvis(predicted) - align_by_pelvis(joints3d))
  return 0.5 * weighted_mean(error, has_3d[:, None, None], all_reduce)


def smpl_loss(pose, shape, rotmats, predicted_shape, has_smpl, all_reduce=_identity):
  """0.5 · mean squared error of the SMPL parameters as [24 rotation matrices, 10 betas]
  (226 numbers per example), over the examples with SMPL ground truth.

  Args:
    pose: [B, 72] ground-truth axis-angle.
    shape: [B, 10] ground-truth betas.
    rotmats: [B, 24, 3, 3] predicted rotation matrices.
    predicted_shape: [B, 10] predicted betas.
    has_smpl: [B] 1 where pose and shape are ground truth, else 0.
    all_reduce: see the module docstring.

  Returns:
    [] float.
  """
  batch = tf.shape(pose)[0]
  true_rotmats = geometry.axis_angle_to_matrix(tf.reshape(pose, [batch, -1, 3]))
  params = tf.concat([tf.reshape(true_rotmats, [batch, -1]), shape], axis=1)
  predicted = tf.concat([tf.reshape(rotmats, [batch, -1]), predicted_shape], axis=1)
  return 0.5 * weighted_mean(tf.square(predicted - params), has_smpl[:, None], all_reduce)


def least_squares(scores, target, all_reduce=_identity):
  """The least-squares GAN term: Σ over the D outputs of (score − target)², averaged over inputs.

  The original's d_loss_real (target 1 on real), d_loss_fake (target 0 on fakes) and e_loss_disc
  (target 1 on fakes) are all this.

  Args:
    scores: [N, D] discriminator outputs.
    target: 0 or 1.
    all_reduce: see the module docstring.

  Returns:
    [] float.
  """
  count = tf.cast(tf.shape(scores)[0], scores.dtype)
  return tf.math.divide_no_nan(tf.reduce_sum(tf.square(scores - target)), all_reduce(count))
