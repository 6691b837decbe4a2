"""Θ₀ from HMR's .h5 and SPIN's .npz, written here in those formats and read from the real files."""

import os

import h5py
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hmr_tf.body import mean_params
from hmr_tf.body.mean_params import load_mean_params


def _write_hmr_h5(path, pose, shape):
  with h5py.File(path, "w") as f:
    f["pose"] = pose
    f["shape"] = shape


def _write_spin_npz(path, pose, shape):
  rot6d = Rotation.from_rotvec(pose.reshape(24, 3)).as_matrix()[:, :, :2].reshape(-1)
  np.savez(path, pose=rot6d, shape=shape, cam=np.array([0.9, 0.0, 0.0]))


def test_both_formats_give_the_same_theta(tmp_path):
  rng = np.random.default_rng(0)
  pose, shape = rng.normal(scale=0.3, size=72), rng.normal(size=10)
  _write_hmr_h5(tmp_path / "mean.h5", pose, shape)
  _write_spin_npz(tmp_path / "mean.npz", pose, shape)
  from_h5 = load_mean_params(str(tmp_path / "mean.h5"))
  from_npz = load_mean_params(str(tmp_path / "mean.npz"))
  assert from_h5.shape == (85,) and from_h5.dtype == np.float32
  np.testing.assert_allclose(from_h5[:3], [0.9, 0.0, 0.0])  # HMR's initial camera
  np.testing.assert_allclose(from_h5[3:6], [np.pi, 0.0, 0.0], atol=1e-6)  # upright root
  np.testing.assert_allclose(from_h5[6:75], pose[3:], atol=1e-6)
  np.testing.assert_allclose(from_h5[75:], shape, atol=1e-6)
  np.testing.assert_allclose(from_npz, from_h5, atol=1e-5)


def test_default_is_the_upright_rest_pose():
  default = load_mean_params()
  expected = np.zeros(85)
  expected[0], expected[3] = 0.9, np.pi
  np.testing.assert_allclose(default, expected, atol=1e-7)


def test_real_hmr_and_spin_files_agree(shared_data):
  aux = os.path.join(shared_data, "body_model_aux")
  hmr = load_mean_params(os.path.join(aux, "neutral_smpl_mean_params.h5"))
  spin = load_mean_params(os.path.join(aux, "smpl_mean_params.npz"))
  np.testing.assert_allclose(spin, hmr, atol=1e-5)
  assert np.abs(hmr[6:75]).max() > 0.1  # a real mean pose, not the rest pose


def test_bad_files_are_reported(tmp_path):
  _write_hmr_h5(tmp_path / "short.h5", np.zeros(69), np.zeros(10))
  with pytest.raises(ValueError, match=r"short.h5: expected pose of shape \[72\], found \[69\]"):
    load_mean_params(str(tmp_path / "short.h5"))
  np.savez(tmp_path / "noshape.npz", pose=np.zeros(144))
  with pytest.raises(ValueError, match="noshape.npz: missing key 'shape'"):
    load_mean_params(str(tmp_path / "noshape.npz"))
  with pytest.raises(FileNotFoundError):
    load_mean_params(str(tmp_path / "absent.h5"))


def test_written_mean_params_hold_each_joints_mean_rotation(tmp_path):
  # Two poses bending joint 5 by 20° and 60° about one axis: their mean bends it by 40°.
  poses = np.zeros((2, 72))
  axis = np.array([0.6, 0.0, 0.8])
  poses[0, 15:18], poses[1, 15:18] = np.radians(20) * axis, np.radians(60) * axis
  poses[:, 0:3] = [0.3, 0.2, 0.1]  # any root: Θ₀'s is upright
  shapes = np.stack([np.full(10, 1.0), np.full(10, 3.0)])
  mean_params.write_mean_params(tmp_path / "mean.npz", poses, shapes)
  theta = mean_params.load_mean_params(str(tmp_path / "mean.npz"))
  expected = np.zeros(72)
  expected[:3] = [np.pi, 0.0, 0.0]
  expected[15:18] = np.radians(40) * axis
  np.testing.assert_allclose(theta[3:75], expected, atol=1e-5)
  np.testing.assert_allclose(theta[75:], 2.0, atol=1e-6)
