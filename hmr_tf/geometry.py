"""Rotations, the weak-perspective camera and Procrustes alignment, as batched TF functions.

Every function takes any number of leading batch dimensions (written `...`) unless its docstring
says [B, ...], works with a batch size unknown until run time, and keeps the input dtype.

Rotations are smooth with finite gradients everywhere that matters for training: Rodrigues at
zero rotation uses its Taylor series (the "double where" keeps the unused branch's gradient
finite), and the inverse goes through a quaternion chosen by Shepperd's method, which stays
accurate near π where the classic arccos((trace - 1) / 2) formula loses all precision.
"""

import tensorflow as tf

# Below this squared angle, Rodrigues uses its Taylor series (error < θ⁶/5040 ≈ 2e-16).
_SMALL_ANGLE_SQ = 1e-4


def axis_angle_to_matrix(axis_angle):
  """Rodrigues' formula. [..., 3] axis-angle (angle = norm) -> [..., 3, 3] rotation matrices."""
  axis_angle = tf.convert_to_tensor(axis_angle)
  angle_sq = tf.reduce_sum(tf.square(axis_angle), axis=-1, keepdims=True)[..., None]  # [...,1,1]
  small = angle_sq < _SMALL_ANGLE_SQ
  safe_angle_sq = tf.where(small, tf.ones_like(angle_sq), angle_sq)
  safe_angle = tf.sqrt(safe_angle_sq)
  # R = I + a·K + b·K², with K the skew matrix of the unnormalised axis-angle r,
  # a = sin θ / θ and b = (1 − cos θ) / θ²; K² = r rᵀ − θ² I.
  a = tf.where(small, 1.0 - angle_sq / 6.0 + tf.square(angle_sq) / 120.0,
               tf.sin(safe_angle) / safe_angle)
  b = tf.where(small, 0.5 - angle_sq / 24.0 + tf.square(angle_sq) / 720.0,
               (1.0 - tf.cos(safe_angle)) / safe_angle_sq)
  x, y, z = tf.unstack(axis_angle, axis=-1)
  zeros = tf.zeros_like(x)
  skew = tf.reshape(tf.stack([zeros, -z, y, z, zeros, -x, -y, x, zeros], axis=-1),
                    tf.concat([tf.shape(x), [3, 3]], axis=0))
  outer = axis_angle[..., :, None] * axis_angle[..., None, :]
  eye = tf.eye(3, dtype=axis_angle.dtype)
  return (1.0 - b * angle_sq) * eye + a * skew + b * outer


def matrix_to_quaternion(rotmat):
  """[..., 3, 3] rotation matrices -> [..., 4] unit quaternions (w, x, y, z) with w >= 0."""
  rotmat = tf.convert_to_tensor(rotmat)
  r = [[rotmat[..., i, j] for j in range(3)] for i in range(3)]
  # 4·q_i² for each component i; the largest one (always >= 1) gives a well-conditioned row.
  diag = tf.stack([1.0 + r[0][0] + r[1][1] + r[2][2], 1.0 + r[0][0] - r[1][1] - r[2][2],
                   1.0 - r[0][0] + r[1][1] - r[2][2], 1.0 - r[0][0] - r[1][1] + r[2][2]], axis=-1)
  # Row i is 4·q_i·q: every component written with the divisor q_i (Shepperd's method).
  rows = tf.stack([
      tf.stack([diag[..., 0], r[2][1] - r[1][2], r[0][2] - r[2][0], r[1][0] - r[0][1]], -1),
      tf.stack([r[2][1] - r[1][2], diag[..., 1], r[1][0] + r[0][1], r[0][2] + r[2][0]], -1),
      tf.stack([r[0][2] - r[2][0], r[1][0] + r[0][1], diag[..., 2], r[1][2] + r[2][1]], -1),
      tf.stack([r[1][0] - r[0][1], r[2][0] + r[0][2], r[2][1] + r[1][2], diag[..., 3]], -1),
  ], axis=-2)  # [..., 4, 4]
  # Rows that are not chosen may be all zero; the floor keeps their (unused) gradient finite.
  norms = tf.sqrt(tf.maximum(tf.reduce_sum(tf.square(rows), -1, keepdims=True), 1e-12))
  choice = tf.one_hot(tf.argmax(diag, axis=-1), 4, dtype=rotmat.dtype)[..., :, None]
  quat = tf.reduce_sum(choice * rows / norms, axis=-2)
  return tf.where(quat[..., :1] < 0, -quat, quat)


def quaternion_to_axis_angle(quat):
  """[..., 4] unit quaternions (w, x, y, z) with w >= 0 -> [..., 3] axis-angle, angle in [0, π]."""
  quat = tf.convert_to_tensor(quat)
  w, xyz = quat[..., :1], quat[..., 1:]
  sin_half_sq = tf.reduce_sum(tf.square(xyz), axis=-1, keepdims=True)
  small = sin_half_sq < _SMALL_ANGLE_SQ
  sin_half = tf.sqrt(tf.where(small, tf.ones_like(sin_half_sq), sin_half_sq))
  # angle / sin(angle/2), with angle = 2·atan2(|xyz|, w); its series near zero rotation.
  safe_w = tf.where(small, w, tf.ones_like(w))
  scale = tf.where(small, 2.0 / safe_w - 2.0 * sin_half_sq / (3.0 * safe_w ** 3),
                   2.0 * tf.atan2(sin_half, w) / sin_half)
  return scale * xyz


def matrix_to_axis_angle(rotmat):
  """Inverse Rodrigues. [..., 3, 3] rotation matrices -> [..., 3] axis-angle, angle in [0, π]."""
  return quaternion_to_axis_angle(matrix_to_quaternion(rotmat))


def rot6d_to_matrix(rot6d):
  """[..., 6] continuous 6D rotations (Zhou et al. 2019) -> [..., 3, 3] rotation matrices.

  The 6 numbers are the first two columns of the matrix, row-major as a [3, 2] block (SPIN's
  layout, so its smpl_mean_params.npz reads directly). Gram–Schmidt makes them orthonormal.
  """
  rot6d = tf.convert_to_tensor(rot6d)
  columns = tf.reshape(rot6d, tf.concat([tf.shape(rot6d)[:-1], [3, 2]], axis=0))
  b1 = tf.math.l2_normalize(columns[..., 0], axis=-1)
  a2 = columns[..., 1]
  b2 = tf.math.l2_normalize(a2 - tf.reduce_sum(b1 * a2, -1, keepdims=True) * b1, axis=-1)
  b3 = tf.linalg.cross(b1, b2)
  return tf.stack([b1, b2, b3], axis=-1)


def matrix_to_rot6d(rotmat):
  """[..., 3, 3] rotation matrices -> [..., 6]: the first two columns, row-major."""
  rotmat = tf.convert_to_tensor(rotmat)
  return tf.reshape(rotmat[..., :, :2], tf.concat([tf.shape(rotmat)[:-2], [6]], axis=0))


def weak_perspective_projection(points, camera):
  """HMR's camera: x̂ = s · (X[:, :2] + [tx, ty]).

  Args:
    points: [B, N, 3].
    camera: [B, 3] as (s, tx, ty).

  Returns:
    [B, N, 2] in the crop's normalised coordinates ([-1, 1] spans the crop).
  """
  camera = tf.convert_to_tensor(camera)
  return camera[:, None, :1] * (points[..., :2] + camera[:, None, 1:])


def weak_perspective_to_translation(camera, focal_length, image_size):
  """Camera-frame translation that reproduces a weak-perspective camera with a pinhole one.

  A body at depth tz seen with focal length f over an image of `image_size` pixels appears
  scaled by f / tz pixels per metre; the weak-perspective s maps metres to image_size / 2
  pixels, so tz = 2·f / (image_size · s).

  Args:
    camera: [B, 3] as (s, tx, ty).
    focal_length: in pixels.
    image_size: the crop size in pixels.

  Returns:
    [B, 3] translation (tx, ty, tz) to add to the body before perspective projection.
  """
  camera = tf.convert_to_tensor(camera)
  depth = 2.0 * focal_length / (image_size * camera[:, 0] + 1e-9)
  return tf.stack([camera[:, 1], camera[:, 2], depth], axis=-1)


def similarity_align(source, target):
  """Aligns `source` to `target` with the best rotation, scale and translation (Procrustes).

  Args:
    source: [B, N, 3].
    target: [B, N, 3].

  Returns:
    [B, N, 3]: s·R·source + t minimising the squared distance to `target` (Umeyama 1991).
  """
  source = tf.convert_to_tensor(source)
  target = tf.cast(target, source.dtype)
  mu_source = tf.reduce_mean(source, axis=1, keepdims=True)
  mu_target = tf.reduce_mean(target, axis=1, keepdims=True)
  x = source - mu_source
  y = target - mu_target
  covariance = tf.einsum("bni,bnj->bij", x, y)  # [B, 3, 3]
  _, u, v = tf.linalg.svd(covariance)
  # Flip the last axis where needed so that R is a rotation, not a reflection.
  sign = tf.sign(tf.linalg.det(tf.matmul(v, u, transpose_b=True)))
  fix = tf.linalg.diag(tf.stack([tf.ones_like(sign), tf.ones_like(sign), sign], axis=-1))
  rotation = tf.matmul(tf.matmul(v, fix), u, transpose_b=True)  # [B, 3, 3]
  rotated = tf.einsum("bij,bnj->bni", rotation, x)
  scale = (tf.reduce_sum(rotated * y, axis=[1, 2], keepdims=True)
           / tf.reduce_sum(tf.square(x), axis=[1, 2], keepdims=True))
  return scale * rotated + mu_target
