"""Rotations, projection and Procrustes against scipy, hand-computed values and round trips."""

import numpy as np
import pytest
import tensorflow as tf
from scipy.spatial.transform import Rotation

from hmr_tf import geometry


def _axis_angles(rng, count, angle):
  axes = rng.normal(size=(count, 3))
  return axes / np.linalg.norm(axes, axis=1, keepdims=True) * angle


@pytest.mark.parametrize("angle", [0.0, 1e-7, 1e-3, 0.5, 2.0, np.pi - 1e-3, np.pi])
def test_axis_angle_to_matrix_matches_scipy(angle):
  aa = _axis_angles(np.random.default_rng(0), 16, angle)
  expected = Rotation.from_rotvec(aa).as_matrix()
  np.testing.assert_allclose(geometry.axis_angle_to_matrix(aa).numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("angle", [0.0, 1e-6, 1e-2, 1.0, 3.0, np.pi - 1e-4])
def test_matrix_to_axis_angle_inverts_rodrigues(angle):
  aa = _axis_angles(np.random.default_rng(1), 16, angle)
  recovered = geometry.matrix_to_axis_angle(Rotation.from_rotvec(aa).as_matrix()).numpy()
  np.testing.assert_allclose(recovered, aa, atol=1e-9)


def test_matrix_to_axis_angle_at_pi_gives_the_same_rotation():
  # At exactly π, r and −r are the same rotation; either answer is right.
  aa = _axis_angles(np.random.default_rng(2), 16, np.pi)
  recovered = geometry.matrix_to_axis_angle(Rotation.from_rotvec(aa).as_matrix()).numpy()
  np.testing.assert_allclose(np.linalg.norm(recovered, axis=1), np.pi, atol=1e-9)
  np.testing.assert_allclose(Rotation.from_rotvec(recovered).as_matrix(),
                             Rotation.from_rotvec(aa).as_matrix(), atol=1e-9)


def test_float32_round_trip_keeps_precision():
  aa = np.random.default_rng(3).normal(size=(1000, 3)).astype(np.float32)
  aa = aa / np.linalg.norm(aa, axis=1, keepdims=True) * np.float32(3.0)
  back = geometry.matrix_to_axis_angle(geometry.axis_angle_to_matrix(aa)).numpy()
  assert back.dtype == np.float32
  np.testing.assert_allclose(back, aa, atol=2e-5)


@pytest.mark.parametrize("angle", [0.0, 1e-5, np.pi - 1e-2])
def test_rodrigues_gradients_are_finite_and_correct(angle):
  aa = tf.constant(_axis_angles(np.random.default_rng(4), 2, angle) if angle else np.zeros((2, 3)))
  theoretical, numerical = tf.test.compute_gradient(geometry.axis_angle_to_matrix, [aa], delta=1e-6)
  assert np.all(np.isfinite(theoretical[0]))
  np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-6)


@pytest.mark.parametrize("angle", [1e-5, 0.3, np.pi - 1e-2])
def test_inverse_rodrigues_gradients_are_finite_and_correct(angle):
  # Differentiate through R(r) so that the numerical gradient stays on rotation matrices.
  aa = tf.constant(_axis_angles(np.random.default_rng(5), 2, angle))
  round_trip = lambda r: geometry.matrix_to_axis_angle(geometry.axis_angle_to_matrix(r))
  theoretical, numerical = tf.test.compute_gradient(round_trip, [aa], delta=1e-6)
  assert np.all(np.isfinite(theoretical[0]))
  np.testing.assert_allclose(theoretical[0], np.eye(6), atol=1e-5)
  np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-5)


def test_inverse_rodrigues_gradient_is_finite_at_identity():
  rotmat = tf.constant(np.tile(np.eye(3), (2, 1, 1)))
  with tf.GradientTape() as tape:
    tape.watch(rotmat)
    aa = geometry.matrix_to_axis_angle(rotmat)
  assert np.all(np.isfinite(tape.gradient(aa, rotmat).numpy()))


def test_rot6d_round_trip_and_orthonormality():
  rng = np.random.default_rng(6)
  rotmats = Rotation.random(32, random_state=7).as_matrix()
  np.testing.assert_allclose(geometry.rot6d_to_matrix(geometry.matrix_to_rot6d(rotmats)).numpy(),
                             rotmats, atol=1e-12)
  arbitrary = geometry.rot6d_to_matrix(rng.normal(size=(32, 6))).numpy()
  np.testing.assert_allclose(np.einsum("bij,bik->bjk", arbitrary, arbitrary),
                             np.tile(np.eye(3), (32, 1, 1)), atol=1e-12)
  np.testing.assert_allclose(np.linalg.det(arbitrary), 1.0, atol=1e-12)


def test_rot6d_layout_is_two_columns_row_major():
  # SPIN's mean root: first column (1, 0, 0), second column (0, -1, 0) -> π about x.
  rotmat = geometry.rot6d_to_matrix(np.array([1.0, 0.0, 0.0, -1.0, 0.0, 0.0])).numpy()
  np.testing.assert_allclose(rotmat, np.diag([1.0, -1.0, -1.0]), atol=1e-12)


def test_weak_perspective_projection_by_hand():
  points = np.array([[[1.0, 2.0, 5.0], [-1.0, 0.5, -3.0]]])
  camera = np.array([[2.0, 0.5, -1.0]])
  expected = [[[2.0 * (1.0 + 0.5), 2.0 * (2.0 - 1.0)], [2.0 * (-1.0 + 0.5), 2.0 * (0.5 - 1.0)]]]
  np.testing.assert_allclose(geometry.weak_perspective_projection(points, camera).numpy(), expected)


def test_translation_reproduces_weak_perspective_for_a_distant_body():
  rng = np.random.default_rng(8)
  points = rng.normal(scale=0.3, size=(1, 19, 3))
  camera = np.array([[0.9, 0.1, -0.2]])
  focal, size = 5000.0, 224.0
  translation = geometry.weak_perspective_to_translation(camera, focal, size).numpy()
  moved = points + translation[:, None]
  pixels = focal * moved[..., :2] / moved[..., 2:]  # principal point at the crop centre
  weak = geometry.weak_perspective_projection(points, camera).numpy() * size / 2
  # Perspective differs from weak perspective by the depth spread over the distance (~0.3/25).
  np.testing.assert_allclose(pixels, weak, atol=0.02 * size)


def test_similarity_align_recovers_a_known_transform():
  rng = np.random.default_rng(9)
  target = rng.normal(size=(4, 14, 3))
  rotations = Rotation.random(4, random_state=10).as_matrix()
  source = 0.7 * np.einsum("bij,bnj->bni", rotations, target) + rng.normal(size=(4, 1, 3))
  np.testing.assert_allclose(geometry.similarity_align(source, target).numpy(), target, atol=1e-9)


def test_similarity_align_never_reflects():
  target = np.random.default_rng(11).normal(size=(1, 10, 3))
  mirrored = target * np.array([-1.0, 1.0, 1.0])
  aligned = geometry.similarity_align(mirrored, target).numpy()
  # The best proper rotation cannot undo a mirror image, so some error must remain.
  assert np.abs(aligned - target).max() > 1e-3


def test_functions_accept_an_unknown_batch_size():
  spec = tf.TensorSpec([None, 24, 3], tf.float32)
  to_matrix = tf.function(geometry.axis_angle_to_matrix, input_signature=[spec])
  to_axis_angle = tf.function(geometry.matrix_to_axis_angle,
                              input_signature=[tf.TensorSpec([None, 24, 3, 3], tf.float32)])
  aa = np.random.default_rng(12).normal(size=(5, 24, 3)).astype(np.float32)
  np.testing.assert_allclose(to_axis_angle(to_matrix(aa)).numpy(),
                             geometry.matrix_to_axis_angle(geometry.axis_angle_to_matrix(aa)),
                             atol=1e-6)
