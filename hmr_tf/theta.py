"""The 85 numbers HMR regresses: Θ = [camera (s, tx, ty) | pose (24 × axis-angle) | shape (10)].

These sizes are the project's one definition of 72 and 10. Numpy-only code (the body-model
readers) uses them too, so this module does not import TensorFlow at the top.
"""

NUM_CAMERA = 3
NUM_POSE = 72
NUM_SHAPE = 10
SIZE = NUM_CAMERA + NUM_POSE + NUM_SHAPE  # 85


def split(theta):
  """[..., 85] -> camera [..., 3], pose [..., 72], shape [..., 10] (a tensor or an array)."""
  return (theta[..., :NUM_CAMERA], theta[..., NUM_CAMERA:NUM_CAMERA + NUM_POSE],
          theta[..., NUM_CAMERA + NUM_POSE:])


def join(camera, pose, shape):
  """camera [..., 3], pose [..., 72], shape [..., 10] -> [..., 85]."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel  (see the module docstring)
  return tf.concat([camera, pose, shape], axis=-1)
