"""HMR's losses against values computed by hand from the original's definitions (ops.py,
trainer.py: TF1 SUM_BY_NONZERO_WEIGHTS means, 0.5 · MSE, least-squares GAN sums)."""

import numpy as np
import pytest
import tensorflow as tf

from hmr_tf import joints
from hmr_tf.training import losses

NECK = joints.LSP_14.index("neck")
LEFT_HIP = joints.LSP_14.index("left_hip")


def test_keypoint_loss_is_the_mean_over_visible_coordinates():
  keypoints = tf.constant([[[0.5, 0.5, 1.0], [0.1, -0.2, 0.0]],
                           [[1.0, 1.0, 1.0], [0.0, 0.0, 1.0]]])
  predicted = tf.constant([[[0.2, 0.9], [5.0, 5.0]],  # |0.3| + |0.4|, the second is hidden
                           [[1.0, 0.0], [0.5, 0.0]]])  # |0| + |1| + |0.5| + |0|
  # 2.2 summed over 6 visible coordinates.
  assert losses.keypoint_loss(keypoints, predicted).numpy() == pytest.approx(2.2 / 6)
  hidden = keypoints * [1.0, 1.0, 0.0]
  assert losses.keypoint_loss(hidden, predicted).numpy() == 0.0


def test_a_global_divisor_makes_the_parts_of_a_batch_add_up():
  rng = np.random.default_rng(0)
  keypoints = np.concatenate([rng.normal(size=(6, 19, 2)), rng.integers(0, 2, (6, 19, 1))], -1)
  predicted = rng.normal(size=(6, 19, 2))
  keypoints, predicted = tf.constant(keypoints, tf.float32), tf.constant(predicted, tf.float32)
  visible_coordinates = 2.0 * np.sum(keypoints[..., 2])
  parts = [losses.keypoint_loss(keypoints[i:i + 3], predicted[i:i + 3],
                                all_reduce=lambda count: tf.constant(visible_coordinates))
           for i in (0, 3)]
  whole = losses.keypoint_loss(keypoints, predicted)
  assert sum(parts).numpy() == pytest.approx(whole.numpy(), rel=1e-6)


def test_joints3d_loss_aligns_the_pelvis_and_skips_examples_without_3d():
  truth = np.random.default_rng(1).normal(size=(2, 14, 3))
  predicted = truth + [1.0, 2.0, 3.0]  # a translation: nothing after alignment
  predicted[0, NECK] += [0.3, 0.4, 0.0]  # squared error 0.09 + 0.16
  predicted[1] += 7.0  # has_3d 0: ignored
  loss = losses.joints3d_loss(tf.constant(truth), tf.constant(predicted),
                              tf.constant([1.0, 0.0], tf.float64))
  # 0.5 · 0.25 over the 42 numbers of the one example with 3D.
  assert loss.numpy() == pytest.approx(0.5 * 0.25 / 42)

  predicted = truth.copy()
  predicted[0, LEFT_HIP] += [0.2, 0.0, 0.0]  # the pelvis moves 0.1: every joint is 0.1 off
  loss = losses.joints3d_loss(tf.constant(truth), tf.constant(predicted),
                              tf.constant([1.0, 0.0], tf.float64))
  assert loss.numpy() == pytest.approx(0.5 * 14 * 0.01 / 42)


def test_smpl_loss_compares_rotation_matrices_and_betas():
  quarter_turn_z = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
  pose = np.zeros((2, 24, 3))
  pose[0, 3] = [0.0, 0.0, np.pi / 2]  # joint 3 is turned a quarter about z
  rotmats = np.tile(np.eye(3), (2, 24, 1, 1))
  rotmats[0, 3] = quarter_turn_z  # right
  rotmats[0, 5] = quarter_turn_z  # wrong: R − I has four entries ±1, squared sum 4
  shape = np.zeros((2, 10))
  predicted_shape = np.zeros((2, 10))
  predicted_shape[0, 0] = 1.0  # squared error 1
  predicted_shape[1] = 5.0  # has_smpl 0: ignored
  loss = losses.smpl_loss(tf.constant(pose.reshape(2, 72)), tf.constant(shape),
                          tf.constant(rotmats), tf.constant(predicted_shape),
                          tf.constant([1.0, 0.0], tf.float64))
  # 0.5 · (4 + 1) over the 24·9 + 10 = 226 numbers of the one example with SMPL truth.
  assert loss.numpy() == pytest.approx(0.5 * 5.0 / 226, rel=1e-6)


def test_least_squares_sums_the_outputs_and_averages_the_inputs():
  scores = tf.constant([[1.0, 2.0], [0.0, 0.0]])
  assert losses.least_squares(scores, 1.0).numpy() == pytest.approx((0 + 1 + 1 + 1) / 2)
  assert losses.least_squares(scores, 0.0).numpy() == pytest.approx((1 + 4 + 0 + 0) / 2)
