"""The mean-pose baseline: one Θ for every image, scored like a model (evaluate.evaluate_model).

A model that has learnt nothing from the pixels can still predict the average body; beating
this constant is the first sign that it reads the image.
"""

import numpy as np

from hmr_tf import theta as theta_lib
from hmr_tf.body import SMPL


class ConstantModel:
  """images [b, S, S, 3] -> the same body for each: "keypoints3d" [b, K, 3], "vertices" [b, V, 3].

  Args:
    theta: [85] Θ (the camera is not used: the metrics align by the pelvis or by Procrustes).
    body_model: an SMPL layer, a BodyModel or a spec string.
    image_size: the side of the images it is given (evaluate.predict asks).
  """

  def __init__(self, theta, body_model, image_size):
    _, pose, shape = theta_lib.split(np.asarray(theta, np.float32)[None])
    smpl = body_model if isinstance(body_model, SMPL) else SMPL(body_model)
    out = smpl(pose, shape)
    self._outputs = {"keypoints3d": out["keypoints"].numpy(), "vertices": out["vertices"].numpy()}
    self.image_size = image_size
    self.smpl = smpl

  def __call__(self, images):
    return {key: np.repeat(value, len(images), axis=0) for key, value in self._outputs.items()}
