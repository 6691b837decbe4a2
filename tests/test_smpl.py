"""The SMPL layer against an independent numpy SMPL, and its batch, dtype and export behaviour."""

import numpy as np
import pytest
import tensorflow as tf
from scipy.spatial.transform import Rotation

import reference_smpl
import smpl_files
from hmr_tf.body import SMPL


@pytest.fixture(scope="module")
def smpl_sized_model():
  return smpl_files.random_body_model()  # V = 6890, with pose correctives and cocoplus


def _random_inputs(seed, batch, scale=0.6):
  rng = np.random.default_rng(seed)
  return rng.normal(scale=scale, size=(batch, 72)), rng.normal(size=(batch, 10))


def test_float64_matches_numpy_reference(smpl_sized_model):
  pose, betas = _random_inputs(0, 3)
  out = SMPL(smpl_sized_model, dtype="float64")(pose, betas)
  vertices, joints = reference_smpl.smpl_forward(smpl_sized_model, pose, betas)
  assert out["vertices"].dtype == tf.float64
  np.testing.assert_allclose(out["vertices"].numpy(), vertices, atol=1e-6)
  np.testing.assert_allclose(out["joints"].numpy(), joints, atol=1e-6)
  keypoints = np.einsum("kv,bvc->bkc", smpl_sized_model.regressors["cocoplus"], vertices)
  np.testing.assert_allclose(out["keypoints"].numpy(), keypoints, atol=1e-6)


def test_float32_is_close_to_float64(smpl_sized_model):
  pose, betas = _random_inputs(1, 2)
  out32 = SMPL(smpl_sized_model)(pose, betas)
  vertices, _ = reference_smpl.smpl_forward(smpl_sized_model, pose, betas)
  assert out32["vertices"].dtype == tf.float32
  np.testing.assert_allclose(out32["vertices"].numpy(), vertices, atol=2e-5)


def test_rotation_matrix_input_equals_axis_angle_input():
  model = smpl_files.random_body_model(num_verts=300)
  pose, betas = _random_inputs(2, 4)
  rotmats = Rotation.from_rotvec(pose.reshape(-1, 3)).as_matrix().reshape(4, 24, 3, 3)
  smpl = SMPL(model, dtype="float64")
  from_rotmats = smpl(rotmats, betas)
  from_axis_angle = smpl(pose, betas)
  np.testing.assert_allclose(from_rotmats["vertices"], from_axis_angle["vertices"], atol=1e-12)
  np.testing.assert_allclose(from_axis_angle["rotmats"], rotmats, atol=1e-12)


def test_zero_pose_and_shape_give_the_template():
  model = smpl_files.random_body_model(num_verts=300)
  out = SMPL(model, dtype="float64")(np.zeros((1, 72)), np.zeros((1, 10)))
  np.testing.assert_allclose(out["vertices"][0], model.v_template, atol=1e-12)
  np.testing.assert_allclose(out["joints"][0], model.J_regressor @ model.v_template, atol=1e-12)


def test_without_cocoplus_the_keypoints_are_the_joints():
  model = smpl_files.random_body_model(num_verts=300, cocoplus=False)
  out = SMPL(model)(np.zeros((1, 72)), np.zeros((1, 10)))
  np.testing.assert_allclose(out["keypoints"], out["joints"])
  with pytest.raises(ValueError, match="no keypoint regressor named 'h36m'"):
    SMPL(model, keypoint_regressor="h36m")


@pytest.mark.parametrize("angle", [0.0, np.pi - 1e-3])
def test_gradients_are_finite(angle):
  model = smpl_files.random_body_model(num_verts=300)
  smpl = SMPL(model, dtype="float64")
  axes = np.random.default_rng(3).normal(size=(2, 24, 3))
  pose = tf.constant((axes / np.linalg.norm(axes, axis=-1, keepdims=True) * angle).reshape(2, 72))
  betas = tf.constant(np.random.default_rng(4).normal(size=(2, 10)))
  with tf.GradientTape() as tape:
    tape.watch([pose, betas])
    out = smpl(pose, betas)
    loss = tf.reduce_sum(out["vertices"] ** 2) + tf.reduce_sum(out["keypoints"])
  grads = tape.gradient(loss, [pose, betas])
  for grad in grads:
    assert np.all(np.isfinite(grad.numpy()))
  assert np.abs(grads[0].numpy()).max() > 0


def test_dynamic_batch_in_tf_function():
  model = smpl_files.random_body_model(num_verts=300)
  smpl = SMPL(model)
  forward = tf.function(lambda pose, shape: smpl(pose, shape)["vertices"], input_signature=[
      tf.TensorSpec([None, 72], tf.float32), tf.TensorSpec([None, 10], tf.float32)])
  for batch in (1, 3, 7):
    pose, betas = _random_inputs(batch, batch)
    np.testing.assert_allclose(forward(pose.astype(np.float32), betas.astype(np.float32)),
                               smpl(pose, betas)["vertices"], atol=1e-5)
  assert len(forward.get_concrete_function().graph.inputs) >= 2


def test_dynamic_batch_through_saved_model(tmp_path):
  model = smpl_files.random_body_model(num_verts=300)
  smpl = SMPL(model)
  module = tf.Module()
  module.smpl = smpl
  module.forward = tf.function(lambda pose, shape: smpl(pose, shape), input_signature=[
      tf.TensorSpec([None, 72], tf.float32), tf.TensorSpec([None, 10], tf.float32)])
  tf.saved_model.save(module, str(tmp_path / "smpl"))
  del module  # what follows runs from the files alone
  loaded = tf.saved_model.load(str(tmp_path / "smpl"))
  for batch in (1, 5):
    pose, betas = _random_inputs(10 + batch, batch)
    out = loaded.forward(tf.constant(pose, tf.float32), tf.constant(betas, tf.float32))
    vertices, _ = reference_smpl.smpl_forward(model, pose, betas)
    assert out["vertices"].shape == (batch, 300, 3)
    np.testing.assert_allclose(out["vertices"].numpy(), vertices, atol=2e-5)


def test_get_config_round_trip(tmp_path):
  model = smpl_files.random_body_model(num_verts=300)
  path = str(tmp_path / "body.npz")
  from hmr_tf.body import save_body_model  # pylint: disable=import-outside-toplevel
  save_body_model(model, path)
  smpl = SMPL(path, dtype="float64")
  clone = SMPL.from_config(smpl.get_config())
  assert clone.get_config() == smpl.get_config()
  pose, betas = _random_inputs(5, 2)
  np.testing.assert_allclose(clone(pose, betas)["vertices"], smpl(pose, betas)["vertices"])


def test_keras_save_and_load_round_trip(tmp_path):
  model = smpl_files.random_body_model(num_verts=300)
  path = str(tmp_path / "body.npz")
  from hmr_tf.body import save_body_model  # pylint: disable=import-outside-toplevel
  save_body_model(model, path)
  import keras  # pylint: disable=import-outside-toplevel
  pose_in = keras.Input((72,))
  shape_in = keras.Input((10,))
  outputs = SMPL(path)(pose_in, shape_in)
  wrapper = keras.Model([pose_in, shape_in], outputs["vertices"])
  wrapper.save(str(tmp_path / "smpl.keras"))
  restored = keras.saving.load_model(str(tmp_path / "smpl.keras"))
  pose, betas = _random_inputs(6, 3)
  np.testing.assert_allclose(restored([pose, betas]), wrapper([pose, betas]), atol=1e-6)


def test_bad_inputs_raise_clear_errors():
  smpl = SMPL(smpl_files.random_body_model(num_verts=300))
  with pytest.raises(ValueError, match=r"pose as \[B, 72\]"):
    smpl(np.zeros((2, 24, 3)), np.zeros((2, 10)))
  with pytest.raises(ValueError, match=r"shape as \[B, 10\]"):
    smpl(np.zeros((2, 72)), np.zeros((2, 300)))
