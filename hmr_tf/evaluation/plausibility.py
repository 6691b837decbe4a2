"""How plausible predicted poses are, judged by a mocap pool rather than by our discriminator.

A predicted joint rotation (joints 1–23; the root only orients the body) that lies farther than
a threshold from every rotation the pool has for that joint is one the pool never showed: an
elbow bent backwards, a knee twisted sideways. The share of such rotations is the figure: near 0
for poses like the pool's, high for "monsters". Distances are geodesic (the angle of the
relative rotation), so no Euler decomposition and its wrap-around enter.
"""

import numpy as np
from scipy.spatial import transform

THRESHOLD_DEGREES = 15.0
_CHUNK = 16  # predictions compared with the whole pool at once (16 × 23 × M floats)


def nearest_angles(poses, pool_poses):
  """[N, 23] degrees from each predicted joint rotation to the pool's nearest for that joint.

  Args:
    poses: [N, 72] predicted axis-angle poses.
    pool_poses: [M, 72] the pool's.
  """
  predicted, pool = _quaternions(poses), _quaternions(pool_poses)  # [N, 23, 4], [M, 23, 4]
  nearest = np.empty(predicted.shape[:2])
  for start in range(0, len(predicted), _CHUNK):
    chunk = predicted[start:start + _CHUNK]
    cosines = np.abs(np.einsum("njq,mjq->njm", chunk, pool)).max(axis=-1)  # |q·q'| = cos(θ/2)
    nearest[start:start + _CHUNK] = 2 * np.degrees(np.arccos(np.clip(cosines, 0.0, 1.0)))
  return nearest


def outside_share(poses, pool_poses, threshold_degrees=THRESHOLD_DEGREES):
  """The share of the N × 23 predicted joint rotations farther than the threshold from the pool."""
  return float(np.mean(nearest_angles(poses, pool_poses) > threshold_degrees))


def _quaternions(poses):
  poses = np.asarray(poses, np.float64).reshape(len(poses), -1, 3)[:, 1:]
  return transform.Rotation.from_rotvec(poses.reshape(-1, 3)).as_quat().reshape(
      len(poses), -1, 4)
