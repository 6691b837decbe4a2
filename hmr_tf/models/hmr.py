"""The HMR model: image -> per-iteration Θ, and the mesh and keypoints of the last Θ."""

import keras
import tensorflow as tf

from hmr_tf import geometry
from hmr_tf import theta as theta_lib
from hmr_tf.body.smpl import SMPL
from hmr_tf.models import encoders
from hmr_tf.models.regressor import IterativeRegressor

KEYPOINTS = "cocoplus"  # HMR's 19 keypoints (hmr_tf.joints.COCOPLUS_19), LSP-14 first


@keras.saving.register_keras_serializable(package="hmr_tf")
class HMR(keras.Model):
  """End-to-end Recovery of Human Shape and Pose (Kanazawa et al., CVPR 2018).

  images → encoder → φ → IterativeRegressor (T updates from the trainable mean Θ₀) → Θ_1..T;
  the last Θ → SMPL → vertices, joints, cocoplus-19 keypoints → weak-perspective projection.
  Every output is float32, also under a mixed-precision policy (only the encoder follows it).
  Every weight exists once the model is constructed: no build call is needed before restoring
  a checkpoint or building an optimizer.

  Args:
    encoder: "resnet50_v2" (HMR's), "resnet50_v1" or "small" (see build_encoder).
    encoder_weights: None, "imagenet" or a weights file for the encoder (creation only).
    image_size: S, the side of the square input crops (224 in HMR).
    num_iterations: T (3 in HMR).
    dropout: the regressor's dropout rate (0.5 in HMR).
    body_model: a body-model spec string (hmr_tf.body.spec): "free[:variant[:gender]]" or a
      body-model file with a cocoplus regressor.
    mean_params: the mean-parameters file for Θ₀ or None (creation only; see
      IterativeRegressor).
    synchronized_bn: synchronized batch norm in the encoder, for distributed training.

  Attributes:
    encoder: the encoder keras.Model, images [B, S, S, 3] -> [B, F].
    regressor: the IterativeRegressor (holds the trainable mean Θ₀, `mean_theta`).
    smpl: the SMPL layer.

  Call arguments:
    images: [B, S, S, 3] float in [-1, 1].
    training: batch norm in training mode and dropout active.

  Returns:
    A dict of float32 tensors: "thetas" [B, T, 85] (Θ after each iteration), "theta" [B, 85]
    (the last) and its parts "camera" [B, 3], "pose" [B, 72], "shape" [B, 10]; for the last
    Θ: "rotmats" [B, 24, 3, 3], "vertices" [B, V, 3], "joints3d" [B, 24, 3] (SMPL joints,
    metres), "keypoints3d" [B, 19, 3] (cocoplus-19, metres) and "keypoints2d" [B, 19, 2]
    (weak-perspective projection, crop coordinates in [-1, 1]).

  Example:
    >>> model = HMR(encoder="small", image_size=64)
    >>> out = model(tf.zeros([2, 64, 64, 3]))
    >>> out["thetas"].shape, out["keypoints2d"].shape
    (TensorShape([2, 3, 85]), TensorShape([2, 19, 2]))
  """

  def __init__(self, encoder="resnet50_v2", encoder_weights=None, image_size=224,
               num_iterations=3, dropout=0.5, body_model="free", mean_params=None,
               synchronized_bn=False, **kwargs):
    super().__init__(**kwargs)
    # The sublayers take the attribute names; the arguments are kept for get_config.
    self._arguments = dict(
        encoder=encoder, encoder_weights=encoder_weights, image_size=image_size,
        num_iterations=num_iterations, dropout=dropout, body_model=body_model,
        mean_params=mean_params, synchronized_bn=synchronized_bn)
    self.image_size = image_size
    self.num_iterations = num_iterations
    self.encoder = encoders.build_encoder(encoder, image_size, encoder_weights, synchronized_bn)
    self.regressor = IterativeRegressor(num_iterations, dropout, mean_params=mean_params,
                                        name="regressor")
    self.regressor.build(self.encoder.output.shape)
    self.smpl = SMPL(body_model, keypoint_regressor=KEYPOINTS, name="smpl")
    self.built = True

  def call(self, images, training=False):
    features = self.encoder(images, training=training)
    thetas = self.regressor(features, training=training)
    theta = thetas[:, -1]
    camera, pose, shape = theta_lib.split(theta)
    body = self.smpl(pose, shape)
    return {
        "thetas": thetas, "theta": theta, "camera": camera, "pose": pose, "shape": shape,
        "rotmats": body["rotmats"], "vertices": body["vertices"], "joints3d": body["joints"],
        "keypoints3d": body["keypoints"],
        "keypoints2d": geometry.weak_perspective_projection(body["keypoints"], camera),
    }

  def get_config(self):
    return {**super().get_config(), **self._arguments}

  @classmethod
  def from_config(cls, config):
    # The initial weights come back with the saved weights; fetching them again would download
    # for nothing (and fail offline), and the mean-parameters file may be absent where it loads.
    return cls(**dict(config, encoder_weights=None, mean_params=None))
