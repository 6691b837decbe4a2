"""The 85 numbers HMR regresses: Θ = [camera (s, tx, ty) | pose (24 × axis-angle) | shape (10)]."""

import tensorflow as tf

NUM_CAMERA = 3
NUM_POSE = 72
NUM_SHAPE = 10
SIZE = NUM_CAMERA + NUM_POSE + NUM_SHAPE  # 85


def split(theta):
  """[..., 85] -> camera [..., 3], pose [..., 72], shape [..., 10]."""
  return tf.split(theta, [NUM_CAMERA, NUM_POSE, NUM_SHAPE], axis=-1)


def join(camera, pose, shape):
  """camera [..., 3], pose [..., 72], shape [..., 10] -> [..., 85]."""
  return tf.concat([camera, pose, shape], axis=-1)
