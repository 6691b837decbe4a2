"""SMPL as a Keras layer: (pose, shape) -> vertices, joints, keypoints, rotation matrices."""

import keras
import numpy as np
import tensorflow as tf

from hmr_tf import geometry
from hmr_tf.body import lbs
from hmr_tf.body import spec


@keras.saving.register_keras_serializable(package="hmr_tf")
class SMPL(keras.layers.Layer):
  """The SMPL body model (Loper et al. 2015) for any BodyModel in the SMPL layout.

  The model's arrays are non-trainable weights, rearranged once so that every step of the
  forward pass is a single matrix product; the layer keeps no pose or shape state. The batch
  size may be unknown until run time (tf.function, SavedModel, TFLite).

  Args:
    body_model: a BodyModel, a body-model file path, or "free[:variant[:gender]]" for the free
      body model (see hmr_tf.body.spec).
    keypoint_regressor: name of the model's extra regressor that gives `keypoints`; None
      means "cocoplus" where the model has it, otherwise the 24 joints.
    dtype: float32 (default, also under a mixed-precision policy) or float64.

  Call arguments:
    pose: [B, 72] axis-angle (24 joints × 3, root first) or [B, 24, 3, 3] rotation matrices.
    shape: [B, S] shape coefficients (S = the model's num_betas, 10 by default).

  Returns:
    A dict with "vertices" [B, V, 3], "joints" [B, 24, 3] (posed SMPL joints, metres),
    "keypoints" [B, K, 3] and "rotmats" [B, 24, 3, 3].

  Example:
    >>> smpl = SMPL("free")
    >>> out = smpl(tf.zeros([2, 72]), tf.zeros([2, 10]))
    >>> out["vertices"].shape[0], out["joints"].shape[1:]
    (2, TensorShape([24, 3]))
  """

  def __init__(self, body_model="free", keypoint_regressor=None, dtype="float32", **kwargs):
    super().__init__(dtype=dtype, **kwargs)
    model = spec.resolve(body_model)
    self.body_model = body_model if isinstance(body_model, str) else model.source
    self.keypoint_regressor = keypoint_regressor
    self.faces = np.asarray(model.faces, np.int32)
    self.parents = np.asarray(model.parents, np.int32)
    self.num_betas = model.num_betas
    self.num_joints = model.num_joints
    self.has_pose_correctives = model.has_pose_correctives
    self._keypoint_source = self._pick_keypoint_source(model)

    v_template = np.asarray(model.v_template, np.float64)
    shapedirs = np.asarray(model.shapedirs, np.float64)
    j_regressor = np.asarray(model.J_regressor, np.float64)
    # The rest joints are linear in β, so regress them from the template and the blend
    # shapes once here instead of from all V vertices at every call.
    arrays = {  # planar layouts, see hmr_tf.body.lbs
        "v_template": v_template.T,  # [3, V]
        "shapedirs": lbs.planar_basis(shapedirs),  # [S, 3·V]
        "joint_template": (j_regressor @ v_template).T,  # [3, J]
        "joint_shapedirs": lbs.planar_basis(np.einsum("jv,vcs->jcs", j_regressor, shapedirs)),
        "skinning_weights": np.asarray(model.weights, np.float64).T,  # [J, V]
    }
    if self.has_pose_correctives:  # the free body model has none: skip a [P, 3·V] product
      arrays["posedirs"] = lbs.planar_basis(np.asarray(model.posedirs, np.float64))
    if self._keypoint_source is not None:
      arrays["keypoint_matrix"] = np.asarray(model.regressors[self._keypoint_source], np.float64)
    for name, array in arrays.items():
      setattr(self, name, self.add_weight(
          name=name, shape=array.shape, trainable=False,
          initializer=lambda shape, dtype, array=array: tf.constant(array, dtype=dtype)))
    self.built = True

  def _pick_keypoint_source(self, model):
    if self.keypoint_regressor is None:
      return "cocoplus" if "cocoplus" in model.regressors else None
    if self.keypoint_regressor not in model.regressors:
      raise ValueError(f"{model.source}: no keypoint regressor named "
                       f"'{self.keypoint_regressor}'; the model has {sorted(model.regressors)}")
    return self.keypoint_regressor

  def call(self, pose, shape):
    pose = tf.cast(pose, self.compute_dtype)
    shape = tf.cast(shape, self.compute_dtype)
    if pose.shape.rank == 2:
      rotmats = geometry.axis_angle_to_matrix(tf.reshape(pose, [-1, self.num_joints, 3]))
    elif pose.shape.rank == 4:
      rotmats = pose
    else:
      raise ValueError(f"SMPL expects pose as [B, {3 * self.num_joints}] axis-angle or "
                       f"[B, {self.num_joints}, 3, 3] rotation matrices. Received: "
                       f"pose.shape={pose.shape}")
    if shape.shape[-1] != self.num_betas:
      raise ValueError(f"SMPL expects shape as [B, {self.num_betas}]. Received: "
                       f"shape.shape={shape.shape}")

    vertices = self.v_template + lbs.blend_shapes(shape, self.shapedirs)  # [B, 3, V]
    rest_joints = self.joint_template + lbs.blend_shapes(shape, self.joint_shapedirs)
    if self.has_pose_correctives:
      vertices += lbs.blend_shapes(lbs.pose_features(rotmats), self.posedirs)
    joints, skinning = lbs.rigid_transform(
        rotmats, tf.transpose(rest_joints, [0, 2, 1]), self.parents)
    vertices = lbs.skin(vertices, skinning, self.skinning_weights)
    keypoints = (lbs.regress(self.keypoint_matrix, vertices)
                 if self._keypoint_source is not None else joints)
    return {"vertices": tf.transpose(vertices, [0, 2, 1]), "joints": joints,
            "keypoints": keypoints, "rotmats": rotmats}

  def get_config(self):
    config = super().get_config()
    config.update(body_model=self.body_model, keypoint_regressor=self.keypoint_regressor)
    return config
