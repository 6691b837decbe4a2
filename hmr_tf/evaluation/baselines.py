"""The mean-pose baseline: one Θ for every image, scored like a model (evaluate.evaluate_model).

A model that has learnt nothing from the pixels can still predict the average body; beating
this constant is the first sign that it reads the image.
"""

import numpy as np

from hmr_tf import theta as theta_lib
from hmr_tf.body import SMPL
from hmr_tf.body import mean_params
from hmr_tf.evaluation import evaluate


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


def evaluate_mean_pose(mean_params_path, dataset_dir, body_model, image_size, split="test"):
  """evaluate.evaluate_model's results for the ConstantModel of a mean-parameters file (HMR's
  .h5 or SPIN's .npz, see mean_params.load_mean_params) on a split."""
  model = ConstantModel(mean_params.load_mean_params(mean_params_path), body_model, image_size)
  return evaluate.evaluate_model(model, dataset_dir, split)
