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
    body_model: a body-model file path, "free[:variant[:gender]]" for the free body model
      (see hmr_tf.body.spec), or a BodyModel. The layer's config names the model by its spec
      string, so a BodyModel serialises only if it is what its `source` names (as models from
      load_body_model and free_body_model are); get_config says so otherwise.
    keypoint_regressor: name of the model's extra regressor that gives `keypoints`; None
      means "cocoplus" where the model has it, otherwise the 24 joints.
    num_betas: shape coefficients S (the model's first ones): a file or free model is read
      with that many (more than it has is an error); a BodyModel must have exactly that many.
    dtype: float32 (default, also under a mixed-precision policy) or float64.

  Call arguments:
    pose: [B, 72] axis-angle (24 joints × 3, root first) or [B, 24, 3, 3] rotation matrices.
    shape: [B, S] shape coefficients.

  Returns:
    A dict with "vertices" [B, V, 3], "joints" [B, 24, 3] (posed SMPL joints, metres),
    "keypoints" [B, K, 3] and "rotmats" [B, 24, 3, 3].

  Example:
    >>> smpl = SMPL("free")
    >>> out = smpl(tf.zeros([2, 72]), tf.zeros([2, 10]))
    >>> out["vertices"].shape[0], out["joints"].shape[1:]
    (2, TensorShape([24, 3]))
  """

  def __init__(self, body_model="free", keypoint_regressor=None, num_betas=10, dtype="float32",
               **kwargs):
    super().__init__(dtype=dtype, **kwargs)
    model = spec.resolve(body_model, num_betas=num_betas)
    if model.num_betas != num_betas:
      raise ValueError(f"SMPL(num_betas={num_betas}) was given a BodyModel ({model.source}) "
                       f"with {model.num_betas} shape components; pass num_betas="
                       f"{model.num_betas}, or load the model with num_betas={num_betas}")
    self.body_model = body_model if isinstance(body_model, str) else model.source
    # A BodyModel is named in the config by its source: remember what it was, to check that
    # the source still gives the same arrays (get_config).
    self._fingerprint = None if isinstance(body_model, str) else model.fingerprint
    self.keypoint_regressor = keypoint_regressor
    self.faces = np.asarray(model.faces, np.int32)
    self.parents = np.asarray(model.parents, np.int32)
    self.num_betas = num_betas
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
    matrices = pose.shape.rank == 4
    pose = _check_shape(
        pose, "pose", (self.num_joints, 3, 3) if matrices else (3 * self.num_joints,),
        f"pose as [B, {3 * self.num_joints}] axis-angle or [B, {self.num_joints}, 3, 3] "
        f"rotation matrices")
    shape = _check_shape(shape, "shape", (self.num_betas,), f"shape as [B, {self.num_betas}]")
    rotmats = pose if matrices else geometry.axis_angle_to_matrix(
        tf.reshape(pose, [-1, self.num_joints, 3]))
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
    config.update(body_model=self._spec(), keypoint_regressor=self.keypoint_regressor,
                  num_betas=self.num_betas)
    return config

  def _spec(self):
    """The spec string that gives this layer's body model again.

    Raises:
      ValueError: the layer was given a BodyModel that its source does not name (made or
        changed in memory), which no config can hold.
    """
    if self._fingerprint is None:
      return self.body_model
    try:
      same = spec.resolve(self.body_model, self.num_betas).fingerprint == self._fingerprint
    except (OSError, ValueError):
      same = False
    if not same:
      raise ValueError(
          f"this SMPL layer cannot be serialised: its BodyModel (source {self.body_model!r}) "
          f"was made or changed in memory, and a layer config can only name a body model by a "
          f"spec string. Save the model with hmr_tf.body.save_body_model(model, 'body.npz') "
          f"and build the layer with SMPL('body.npz'), or pass a spec such as "
          f"'free:lite:neutral'.")
    return self.body_model


def _check_shape(tensor, name, expected, forms):
  """`tensor` [B, *expected], checked: statically where the shape is known, else at run time.

  Raises:
    ValueError: a known rank or size that differs from `expected`; where sizes are unknown
      until run time (tf.function), a tf.errors.InvalidArgumentError then says the same.
  """
  static = tensor.shape
  if static.rank != 1 + len(expected) or any(
      size is not None and size != want for size, want in zip(static[1:], expected)):
    raise ValueError(f"SMPL expects {forms}. Received: {name}.shape={static}")
  unknown = [axis for axis, size in enumerate(static[1:], 1) if size is None]
  if not unknown:
    return tensor
  check = tf.debugging.assert_equal(
      tf.gather(tf.shape(tensor), unknown), tf.constant([expected[a - 1] for a in unknown]),
      message=f"SMPL expects {forms}; {name} has another shape")
  with tf.control_dependencies([check]):
    return tf.identity(tensor)
