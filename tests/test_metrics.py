"""The metrics against hand-computed cases and scipy's independent rotation fit."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hmr_tf import joints
from hmr_tf.evaluation import metrics

_HIPS = joints.LSP_14.indices(["left_hip", "right_hip"])


def _skeletons(count, seed=0):
  """[count, 14, 3] random joints, metres-sized."""
  return np.random.default_rng(seed).normal(scale=0.4, size=(count, 14, 3))


def test_pelvis_is_the_midpoint_of_the_hips():
  points = np.zeros((14, 3))
  points[joints.LSP_14.index("left_hip")] = [2.0, 4.0, 6.0]
  points[joints.LSP_14.index("right_hip")] = [0.0, 0.0, 2.0]
  np.testing.assert_allclose(metrics.pelvis(points), [1.0, 2.0, 4.0])
  np.testing.assert_allclose(metrics.align_by_pelvis(points)[0], [-1.0, -2.0, -4.0])


def test_a_known_similarity_gives_pa_mpjpe_zero():
  gt = _skeletons(8)
  rotations = Rotation.random(8, random_state=1).as_matrix()
  scales = np.linspace(0.5, 3.0, 8)
  translations = np.random.default_rng(2).normal(size=(8, 1, 3))
  pred = scales[:, None, None] * np.einsum("nij,npj->npi", rotations, gt) + translations
  np.testing.assert_allclose(metrics.pa_mpjpe(pred, gt), 0.0, atol=1e-12)
  assert np.all(metrics.mpjpe(pred, gt) > 0.01)  # the same poses are far apart unaligned
  # The alignment itself gives back the target exactly.
  np.testing.assert_allclose(metrics.similarity_align(pred, gt), gt, atol=1e-12)


def test_similarity_align_matches_scipys_rotation_fit():
  # Independent reference: the best proper rotation from scipy (Kabsch via align_vectors) on
  # centred points, then the least-squares scale in closed form.
  source, target = _skeletons(5, seed=3), _skeletons(5, seed=4)
  for s, t, aligned in zip(source, target, metrics.similarity_align(source, target)):
    x, y = s - s.mean(0), t - t.mean(0)
    rotation, _ = Rotation.align_vectors(y, x)
    rotated = rotation.apply(x)
    scale = np.sum(rotated * y) / np.sum(x * x)
    np.testing.assert_allclose(aligned, scale * rotated + t.mean(0), atol=1e-10)


def test_similarity_align_never_reflects():
  # A mirrored skeleton is fitted by a rotation, so some error remains.
  gt = _skeletons(4, seed=5)
  mirrored = gt * [-1.0, 1.0, 1.0]
  assert np.all(metrics.pa_mpjpe(mirrored, gt) > 1e-3)


def test_offset_of_every_joint_but_the_hips_gives_its_mpjpe():
  gt = _skeletons(3, seed=6)
  offset = np.array([30.0, -40.0, 0.0])  # 50 mm long
  pred = gt.copy()
  others = [i for i in range(14) if i not in _HIPS]
  pred[:, others] += offset
  # The pelvis stays put: 12 joints are 50 mm off, the hips 0.
  np.testing.assert_allclose(metrics.mpjpe(pred, gt), 12 * 50.0 / 14)
  errors = metrics.joint_errors(pred, gt)
  np.testing.assert_allclose(errors[:, others], 50.0)
  np.testing.assert_allclose(errors[:, _HIPS], 0.0, atol=1e-12)


def test_offset_of_the_hips_moves_the_pelvis():
  gt = _skeletons(2, seed=7)
  pred = gt.copy()
  pred[:, _HIPS] += [0.0, 0.0, 14.0]
  # After pelvis alignment the hips agree and the other 12 joints are 14 mm off.
  np.testing.assert_allclose(metrics.mpjpe(pred, gt), 12.0)


def test_a_whole_skeleton_translation_is_no_error():
  gt = _skeletons(2, seed=8)
  np.testing.assert_allclose(metrics.mpjpe(gt + [1.0, 2.0, 3.0], gt), 0.0, atol=1e-12)


def test_pck_and_auc_on_a_hand_made_case():
  errors = np.array([[0.0, 10.0, 149.9], [150.0, 151.0, 300.0]])
  assert metrics.pck(errors) == pytest.approx(50.0)  # strictly below 150 mm: 3 of 6
  # Thresholds 0, 5, …, 150 (31). Below t: 0 mm for the 30 t > 0; 10 mm for the 28 t ≥ 15;
  # 149.9 mm for t = 150 only; the rest never.
  assert metrics.auc(errors) == pytest.approx(100.0 * (30 + 28 + 1) / (31 * 6))
  assert len(metrics.AUC_THRESHOLDS_MM) == 31
  assert metrics.AUC_THRESHOLDS_MM[1] == pytest.approx(5.0)


def test_pve_on_a_hand_made_case():
  gt_vertices = np.random.default_rng(9).normal(size=(2, 50, 3))
  gt_joints = _skeletons(2, seed=10)
  # Every vertex 13 mm off, joints exact: PVE 13.
  shift = np.array([3.0, 4.0, 12.0])
  np.testing.assert_allclose(
      metrics.pve(gt_vertices + shift, gt_vertices, gt_joints, gt_joints), 13.0)
  # The whole body moved (vertices and joints): no error after pelvis alignment.
  np.testing.assert_allclose(
      metrics.pve(gt_vertices + shift, gt_vertices, gt_joints + shift, gt_joints), 0.0,
      atol=1e-12)
  # Half of the vertices 10 off, half exact: 5.
  pred = gt_vertices.copy()
  pred[:, :25] += [10.0, 0.0, 0.0]
  np.testing.assert_allclose(metrics.pve(pred, gt_vertices, gt_joints, gt_joints), 5.0)


def test_pck2d_on_a_hand_made_case():
  gt = np.zeros((2, 14, 2))
  gt[:, joints.LSP_14.index("left_shoulder")] = [0.0, 0.0]
  gt[:, joints.LSP_14.index("right_hip")] = [0.0, 100.0]  # torso 100 px
  visible = np.ones((2, 14), bool)
  pred = gt.copy()
  wrist, knee, ankle, neck = joints.LSP_14.indices(
      ["left_wrist", "left_knee", "left_ankle", "neck"])
  pred[0, wrist] += [19.0, 0.0]  # within 0.2 × 100
  pred[0, knee] += [0.0, 21.0]  # beyond it
  pred[0, ankle] += [12.0, 16.0]  # 20 exactly: correct (≤, as the benchmark's code)
  visible[0, neck] = False  # not labelled: not scored
  visible[1, joints.LSP_14.index("right_hip")] = False  # no torso: nothing scored
  result = metrics.pck2d(pred, gt, visible)
  assert result[0, wrist] == 1.0 and result[0, knee] == 0.0 and result[0, ankle] == 1.0
  assert np.isnan(result[0, neck]) and np.all(np.isnan(result[1]))
  assert np.nansum(result[0]) == 12  # 13 scored, one wrong
  assert metrics.pck2d(pred, gt, visible, alpha=0.1)[0, wrist] == 0.0
  error = metrics.error2d(pred, gt, visible)  # the same distances, as fractions of the torso
  np.testing.assert_allclose(error[0, [wrist, knee, ankle]], [0.19, 0.21, 0.20])
  assert error[0, 0] == 0.0 and np.isnan(error[0, neck]) and np.all(np.isnan(error[1]))
