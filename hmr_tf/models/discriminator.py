"""HMR's factorised adversarial prior: 23 per-joint, 1 all-joints and 1 shape discriminator."""

import math

import keras
import tensorflow as tf

from hmr_tf import joints
from hmr_tf import theta as theta_lib

NUM_JOINTS = len(joints.SMPL_24) - 1  # 23: every joint but the root, whose rotation is the view
EMBEDDING = 32  # HMR's D_conv1/D_conv2 width
OUTPUTS = NUM_JOINTS + 2  # 25


@keras.saving.register_keras_serializable(package="hmr_tf")
class Discriminator(keras.Model):
  """HMR's Discriminator_separable_rotations (src/models.py), 25 scores, no sigmoid.

  The 23 non-root rotation matrices, 9 numbers each, share an embedding 9 → 32 → 32 (ReLU;
  HMR's 1×1 convolutions over a 23×1 "image", here Dense layers over the last axis, the same
  map). Then:
    - 23 linear heads 32 → 1, one per joint: one [23, 32] kernel and [23] bias applied as a
      batched einsum, equal to 23 separate Dense layers, each initialised as slim initialises
      one (Glorot-uniform over fan_in 32, fan_out 1; zero bias);
    - an all-joints head on the flattened 23·32 = 736 embedding: 1024 → 1024 (ReLU) → 1;
    - a shape head on the 10 betas: 10 → 10 → 5 (ReLU) → 1.
  Scores are [23 per joint, all joints, shape] in float32, for the least-squares GAN loss.
  Unlike HMR's squeeze, any batch size works, 1 included.

  Args:
    hidden_units: width of the all-joints head (1024 in HMR).

  Call arguments:
    rotmats: [B, 24, 3, 3] SMPL rotation matrices; the root (index 0) is ignored.
    shape: [B, 10] shape coefficients.

  Returns:
    [B, 25] scores.

  Example:
    >>> disc = Discriminator()
    >>> disc(tf.eye(3, batch_shape=[1, 24]), tf.zeros([1, 10])).shape
    TensorShape([1, 25])
  """

  def __init__(self, hidden_units=1024, **kwargs):
    super().__init__(**kwargs)
    self.hidden_units = hidden_units
    dense = keras.layers.Dense
    self.embed1 = dense(EMBEDDING, activation="relu", name="embed1")
    self.embed2 = dense(EMBEDDING, activation="relu", name="embed2")
    limit = math.sqrt(6.0 / (EMBEDDING + 1))  # Glorot-uniform of one 32 → 1 head
    self.joint_kernel = self.add_weight(
        name="joint_kernel", shape=(NUM_JOINTS, EMBEDDING),
        initializer=keras.initializers.RandomUniform(-limit, limit))
    self.joint_bias = self.add_weight(name="joint_bias", shape=(NUM_JOINTS,),
                                      initializer="zeros")
    self.all_joints = [dense(hidden_units, activation="relu", name="all_joints_fc1"),
                       dense(hidden_units, activation="relu", name="all_joints_fc2"),
                       dense(1, name="all_joints_out")]
    self.shape_head = [dense(theta_lib.NUM_SHAPE, activation="relu", name="shape_fc1"),
                       dense(5, activation="relu", name="shape_fc2"),
                       dense(1, name="shape_out")]
    # Built now, so that optimizers and checkpoints see every weight before the first call.
    self.embed1.build((None, NUM_JOINTS, 9))
    self.embed2.build((None, NUM_JOINTS, EMBEDDING))
    for head, size in ((self.all_joints, NUM_JOINTS * EMBEDDING),
                       (self.shape_head, theta_lib.NUM_SHAPE)):
      for layer in head:
        layer.build((None, size))
        size = layer.units
    self.built = True

  def call(self, rotmats, shape):
    batch = tf.shape(rotmats)[0]
    rotmats = tf.cast(rotmats, self.compute_dtype)
    shape = tf.cast(shape, self.compute_dtype)
    embedding = self.embed2(self.embed1(tf.reshape(rotmats[:, 1:], [batch, NUM_JOINTS, 9])))
    per_joint = tf.einsum("bjc,jc->bj", embedding, tf.cast(self.joint_kernel, self.compute_dtype))
    per_joint += tf.cast(self.joint_bias, self.compute_dtype)
    all_joints = tf.reshape(embedding, [batch, NUM_JOINTS * EMBEDDING])
    for layer in self.all_joints:
      all_joints = layer(all_joints)
    for layer in self.shape_head:
      shape = layer(shape)
    return tf.cast(tf.concat([per_joint, all_joints, shape], axis=-1), tf.float32)

  def get_config(self):
    return {**super().get_config(), "hidden_units": self.hidden_units}
