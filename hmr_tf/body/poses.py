"""Named SMPL poses for demos and figures (axis-angle [72], SMPL_24 order)."""

import numpy as np

from hmr_tf import joints


def pose_from(**rotations):
  """[72] axis-angle with the named SMPL joints rotated, e.g. pose_from(left_knee=(0.5, 0, 0))."""
  pose = np.zeros((len(joints.SMPL_24), 3))
  for name, rotation in rotations.items():
    pose[joints.SMPL_24.index(name)] = rotation
  return pose.reshape(-1)


REST = pose_from()
# Mid-stride: left thigh forward, right back, knees bent, arms down from the T-pose and
# swinging (SMPL's axes: x to the body's left, y up, z forward).
WALKING = pose_from(
    left_hip=(-0.5, 0, 0.05), right_hip=(0.35, 0, -0.05), left_knee=(0.25, 0, 0),
    right_knee=(0.7, 0, 0), left_ankle=(0.15, 0, 0), right_ankle=(-0.1, 0, 0),
    spine1=(0, 0.1, 0), left_shoulder=(0, 0, -1.25), right_shoulder=(0, 0, 1.25),
    left_elbow=(0, -0.35, 0), right_elbow=(0, 0.25, 0))
