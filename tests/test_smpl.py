"""The SMPL layer against an independent numpy SMPL, and its batch, dtype and export behaviour."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from scipy.spatial.transform import Rotation

import reference_smpl
import smpl_files
from hmr_tf.body import SMPL
from hmr_tf.body import free_body_model
from hmr_tf.body import load_body_model
from hmr_tf.body import save_body_model


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
  # One graph for every batch size: the batch stays unknown, the vertex count is known.
  assert forward.get_concrete_function().structured_outputs.shape.as_list() == [None, 300, 3]


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
  save_body_model(model, path)
  smpl = SMPL(path, dtype="float64")
  clone = SMPL.from_config(smpl.get_config())
  assert clone.get_config() == smpl.get_config()
  pose, betas = _random_inputs(5, 2)
  np.testing.assert_allclose(clone(pose, betas)["vertices"], smpl(pose, betas)["vertices"])


def test_a_body_model_object_round_trips_by_its_source(tmp_path):
  path = str(tmp_path / "body.npz")
  save_body_model(smpl_files.random_body_model(num_verts=300), path)
  for model, name in ((load_body_model(path), path),
                      (free_body_model("lite", "male"), "free:lite:male")):
    smpl = SMPL(model, dtype="float64")
    config = smpl.get_config()
    assert config["body_model"] == name
    clone = SMPL.from_config(config)
    pose, betas = _random_inputs(7, 2)
    vertices, _ = reference_smpl.smpl_forward(model, pose, betas)
    np.testing.assert_allclose(clone(pose, betas)["vertices"], vertices, atol=1e-6)


def test_an_in_memory_body_model_says_how_to_serialise_it(tmp_path):
  path = str(tmp_path / "body.npz")
  save_body_model(smpl_files.random_body_model(num_verts=300), path)
  loaded = load_body_model(path)
  changed = dataclasses.replace(loaded, v_template=loaded.v_template + 0.01)  # source kept
  for model in (smpl_files.random_body_model(num_verts=300), changed):
    smpl = SMPL(model)
    smpl(np.zeros((1, 72)), np.zeros((1, 10)))  # usable; only its config is refused
    with pytest.raises(ValueError, match=r"cannot be serialised.*save_body_model"):
      smpl.get_config()


def test_num_betas_reads_more_of_a_300_beta_file(tmp_path):
  model = smpl_files.random_body_model(num_verts=300)
  path = str(tmp_path / "SMPL_NEUTRAL.npz")
  smpl_files.write_smplx_npz(model, path, total_betas=300)
  smpl = SMPL(path, num_betas=300, dtype="float64")
  pose, betas = _random_inputs(8, 2)
  betas = np.random.default_rng(9).normal(size=(2, 300))
  vertices, _ = reference_smpl.smpl_forward(load_body_model(path, num_betas=300), pose, betas)
  np.testing.assert_allclose(smpl(pose, betas)["vertices"], vertices, atol=1e-6)
  assert SMPL.from_config(smpl.get_config()).num_betas == 300
  assert SMPL(path).num_betas == 10  # the first 10 by default
  with pytest.raises(ValueError, match="300 shape components, 301 were requested"):
    SMPL(path, num_betas=301)
  with pytest.raises(ValueError, match="10 shape components, 20 were requested"):
    SMPL("free", num_betas=20)
  with pytest.raises(ValueError, match="with 16 shape components; pass num_betas=16"):
    SMPL(smpl_files.random_body_model(num_verts=50, num_betas=16))


def test_a_malformed_free_spec_lists_the_valid_forms():
  for bad in ("free:lite:neutral:x", "free:tiny", "free:lite:nonbinary"):
    with pytest.raises(ValueError, match=r"expected 'free', 'free:<variant>' or "
                                         r"'free:<variant>:<gender>'.*\('lite', 'full'\)"):
      SMPL(bad)


def test_keras_save_and_load_round_trip(tmp_path):
  model = smpl_files.random_body_model(num_verts=300)
  path = str(tmp_path / "body.npz")
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
  both = r"pose as \[B, 72\] axis-angle or \[B, 24, 3, 3\] rotation matrices"
  for pose in (np.zeros((2, 69)), np.zeros((2, 24, 3)), np.zeros((2, 23, 3, 3)), np.zeros(72)):
    with pytest.raises(ValueError, match=both + r"\. Received: pose.shape"):
      smpl(pose, np.zeros((2, 10)))
  with pytest.raises(ValueError, match=r"shape as \[B, 10\]"):
    smpl(np.zeros((2, 72)), np.zeros((2, 300)))


def test_bad_sizes_are_caught_at_run_time_when_the_graph_does_not_know_them():
  smpl = SMPL(smpl_files.random_body_model(num_verts=300))
  forward = tf.function(lambda pose, shape: smpl(pose, shape)["vertices"], input_signature=[
      tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None, None], tf.float32)])
  assert forward(tf.zeros([3, 72]), tf.zeros([3, 10])).shape == (3, 300, 3)
  # 24 poses of 69 numbers reshape into 23 × 24 joints: without the check, a silent wrong answer.
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"pose as \[B, 72\]"):
    forward(tf.zeros([24, 69]), tf.zeros([24, 10]))
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape as \[B, 10\]"):
    forward(tf.zeros([2, 72]), tf.zeros([2, 11]))
