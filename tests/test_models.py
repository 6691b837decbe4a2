"""The HMR model, its iterative regressor and the discriminator, against numpy references."""

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from hmr_tf.models import HMR, Discriminator, IterativeRegressor

SIZE = 32  # tiny crops: these tests are about the model around the encoder


@pytest.fixture(scope="module")
def model():
  keras.utils.set_random_seed(0)
  return HMR(encoder="small", image_size=SIZE)


def _images(batch, seed=0):
  return tf.random.stateless_uniform([batch, SIZE, SIZE, 3], [seed, 1], -1.0, 1.0)


def _relu(x):
  return np.maximum(x, 0.0)


def test_outputs_for_any_batch_size(model):
  forward = tf.function(lambda images: model(images, training=False),
                        input_signature=[tf.TensorSpec([None, SIZE, SIZE, 3])])
  for batch in (1, 7):  # one traced graph serves both
    out = forward(_images(batch))
    shapes = {key: tuple(value.shape) for key, value in out.items()}
    assert shapes == {"thetas": (batch, 3, 85), "theta": (batch, 85), "camera": (batch, 3),
                      "pose": (batch, 72), "shape": (batch, 10), "rotmats": (batch, 24, 3, 3),
                      "vertices": (batch, model.smpl.v_template.shape[1], 3),
                      "joints3d": (batch, 24, 3), "keypoints3d": (batch, 19, 3),
                      "keypoints2d": (batch, 19, 2)}
    assert all(value.dtype == tf.float32 for value in out.values())
    theta = out["thetas"][:, -1].numpy()
    np.testing.assert_array_equal(out["theta"], theta)
    np.testing.assert_array_equal(np.concatenate([out["camera"], out["pose"], out["shape"]], -1),
                                  theta)
  assert forward.experimental_get_tracing_count() == 1


def test_keypoints2d_are_the_weak_perspective_projection(model):
  out = model(_images(5, seed=3))
  s, t = out["camera"].numpy()[:, :1, None], out["camera"].numpy()[:, None, 1:]
  expected = s * (out["keypoints3d"].numpy()[..., :2] + t)  # x̂ = s · (X[:, :2] + [tx, ty])
  np.testing.assert_allclose(out["keypoints2d"], expected, rtol=1e-5, atol=1e-6)


def test_regressor_iterates_shared_weights_from_the_mean():
  rng = np.random.default_rng(0)
  regressor = IterativeRegressor(num_iterations=4, hidden_units=16)
  regressor.build((None, 6))
  # fc3 larger than its small init, so that each iteration's input visibly changes
  weights = [rng.normal(scale=0.3, size=w.shape).astype(np.float32) for w in regressor.get_weights()]
  regressor.set_weights(weights)
  mean = regressor.mean_theta.numpy()
  w1, b1, w2, b2, w3, b3 = (regressor.fc1.kernel.numpy(), regressor.fc1.bias.numpy(),
                            regressor.fc2.kernel.numpy(), regressor.fc2.bias.numpy(),
                            regressor.fc3.kernel.numpy(), regressor.fc3.bias.numpy())
  features = rng.normal(size=(3, 6)).astype(np.float32)
  theta, expected = np.tile(mean, (3, 1)), []
  for _ in range(4):  # Θ_{t+1} = Θ_t + f([φ, Θ_t])
    hidden = _relu(_relu(np.concatenate([features, theta], -1) @ w1 + b1) @ w2 + b2)
    theta = theta + hidden @ w3 + b3
    expected.append(theta)
  got = regressor(features, training=False)
  np.testing.assert_allclose(got, np.stack(expected, 1), rtol=1e-4, atol=1e-4)
  # 4 iterations and one set of Dense weights: 6 + 1 mean
  assert got.shape == (3, 4, 85) and len(regressor.trainable_weights) == 7


def test_regressor_hand_computed_update():
  """One hidden unit, all ones: ΔΘ = 85·w3 + b3 per update, whatever the features."""
  regressor = IterativeRegressor(num_iterations=2, hidden_units=1, dropout=0.0)
  regressor.build((None, 2))
  regressor.fc1.set_weights([np.zeros((87, 1)), np.ones(1)])  # hidden1 = relu(1) = 1
  regressor.fc2.set_weights([np.zeros((1, 1)), np.ones(1)])  # hidden2 = 1
  regressor.fc3.set_weights([np.full((1, 85), 0.5), np.full(85, 0.25)])  # ΔΘ = 0.75
  got = regressor(np.zeros((1, 2), np.float32), training=True).numpy()
  mean = regressor.mean_theta.numpy()
  np.testing.assert_allclose(got[0], [mean + 0.75, mean + 1.5], rtol=1e-6)


def test_last_layer_is_small_xavier():
  regressor = IterativeRegressor()
  regressor.build((None, 2048))
  kernel = regressor.fc3.kernel.numpy()
  limit = np.sqrt(3 * 0.01 / ((1024 + 85) / 2))  # HMR: variance_scaling(0.01, FAN_AVG, uniform)
  assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
  glorot = np.sqrt(6 / (2048 + 85 + 1024))  # slim's fully_connected default: Xavier uniform
  assert 0.9 * glorot < np.abs(regressor.fc1.kernel.numpy()).max() <= glorot


def test_mean_theta_is_trainable_and_read_from_the_file(tmp_path):
  rng = np.random.default_rng(1)
  pose, shape = rng.normal(scale=0.2, size=72), rng.normal(size=10)
  path = str(tmp_path / "neutral_smpl_mean_params.h5")
  with h5py.File(path, "w") as f:  # HMR's file: "pose" [72], "shape" [10]
    f["pose"], f["shape"] = pose, shape
  expected = np.concatenate([[0.9, 0.0, 0.0], [np.pi, 0.0, 0.0], pose[3:], shape])
  model = HMR(encoder="small", image_size=SIZE, num_iterations=1, mean_params=path)
  mean = model.regressor.mean_theta
  np.testing.assert_allclose(mean.numpy(), expected, atol=1e-6)
  assert any(w is mean for w in model.trainable_weights)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(model(_images(2))["keypoints2d"])
  assert np.abs(tape.gradient(loss, mean).numpy()).max() > 0


def test_mixed_precision_outputs_stay_float32():
  keras.mixed_precision.set_global_policy("mixed_float16")
  try:
    model = HMR(encoder="small", image_size=SIZE)
    out = model(_images(2))
  finally:
    keras.mixed_precision.set_global_policy("float32")
  assert model.encoder.layers[1].compute_dtype == "float16"
  assert all(v.dtype == tf.float32 for v in out.values())
  assert model.regressor.compute_dtype == "float32" and model.smpl.compute_dtype == "float32"


def test_config_round_trip(model):
  config = model.get_config()
  assert {k: config[k] for k in ("encoder", "image_size", "num_iterations", "dropout",
                                 "body_model", "synchronized_bn")} == {
      "encoder": "small", "image_size": SIZE, "num_iterations": 3, "dropout": 0.5,
      "body_model": "free", "synchronized_bn": False}
  rebuilt = HMR.from_config(config)
  assert rebuilt.get_config() == config
  assert [w.shape for w in rebuilt.weights] == [w.shape for w in model.weights]
  regressor = IterativeRegressor(num_iterations=2, dropout=0.1, hidden_units=8)
  assert IterativeRegressor.from_config(regressor.get_config()).get_config() == regressor.get_config()


def test_keras_file_round_trip(tmp_path):
  rng = np.random.default_rng(2)
  pose, shape = rng.normal(scale=0.2, size=72), rng.normal(size=10)
  mean_path = tmp_path / "mean.h5"
  with h5py.File(mean_path, "w") as f:
    f["pose"], f["shape"] = pose, shape
  model = HMR(encoder="small", image_size=SIZE, num_iterations=2, mean_params=str(mean_path))
  model.save(tmp_path / "hmr.keras")
  mean_path.unlink()  # a saved model needs its mean-parameters file no more
  loaded = keras.models.load_model(tmp_path / "hmr.keras")
  images = _images(3, seed=5)
  expected, got = model(images), loaded(images)
  for key in expected:
    np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)
  fresh = HMR(encoder="small", image_size=SIZE, num_iterations=2)(images)["theta"]
  assert np.abs(fresh - expected["theta"]).max() > 1e-3  # the weights did come from the file


def test_paper_configuration_runs_at_batch_8():
  model = HMR()  # ResNet-50 v2 at 224, T = 3
  out = model(tf.zeros([8, 224, 224, 3]), training=False)
  assert out["thetas"].shape == (8, 3, 85) and out["keypoints2d"].shape == (8, 19, 2)
  assert model.encoder.output.shape[1:] == (2048,)
  assert np.all(np.isfinite(out["vertices"]))


# ---- the discriminator against a numpy forward written from HMR's src/models.py

def _discriminator_numpy(disc, rotmats, shape):
  weights = {w.path.split("/", 1)[1]: w.numpy() for w in disc.weights}
  dense = lambda x, name: x @ weights[f"{name}/kernel"] + weights[f"{name}/bias"]  # pylint: disable=unnecessary-lambda-assignment
  poses = rotmats[:, 1:].reshape(len(rotmats), 23, 9)  # N × 23 × (1 ×) 9, root dropped
  embedding = _relu(dense(_relu(dense(poses, "embed1")), "embed2"))  # two 1×1 convs, ReLU
  per_joint = [embedding[:, j] @ weights["joint_kernel"][j] + weights["joint_bias"][j]
               for j in range(23)]  # 23 separate linear heads
  flat = embedding.reshape(len(rotmats), 23 * 32)
  all_joints = dense(_relu(dense(_relu(dense(flat, "all_joints_fc1")), "all_joints_fc2")),
                     "all_joints_out")
  shape_out = dense(_relu(dense(_relu(dense(shape, "shape_fc1")), "shape_fc2")), "shape_out")
  return np.concatenate([np.stack(per_joint, 1), all_joints, shape_out], axis=1)


@pytest.mark.parametrize("batch", [1, 7])
def test_discriminator_matches_numpy(batch):
  rng = np.random.default_rng(batch)
  disc = Discriminator()
  disc.set_weights([rng.normal(scale=0.2, size=w.shape) for w in disc.get_weights()])
  rotmats = rng.normal(size=(batch, 24, 3, 3)).astype(np.float32)
  shape = rng.normal(size=(batch, 10)).astype(np.float32)
  scores = disc(rotmats, shape).numpy()
  assert scores.shape == (batch, 25) and scores.dtype == np.float32
  np.testing.assert_allclose(scores, _discriminator_numpy(disc, rotmats, shape),
                             rtol=1e-4, atol=1e-4)
  rotmats[:, 0] = rng.normal(size=(batch, 3, 3))  # the root does not matter
  np.testing.assert_array_equal(disc(rotmats, shape), scores)


def test_discriminator_layer_sizes_and_round_trip(tmp_path):
  disc = Discriminator()
  sizes = {w.path.split("/", 1)[1]: tuple(w.shape) for w in disc.weights}
  assert sizes == {
      "embed1/kernel": (9, 32), "embed1/bias": (32,), "embed2/kernel": (32, 32),
      "embed2/bias": (32,), "joint_kernel": (23, 32), "joint_bias": (23,),
      "all_joints_fc1/kernel": (736, 1024), "all_joints_fc1/bias": (1024,),
      "all_joints_fc2/kernel": (1024, 1024), "all_joints_fc2/bias": (1024,),
      "all_joints_out/kernel": (1024, 1), "all_joints_out/bias": (1,),
      "shape_fc1/kernel": (10, 10), "shape_fc1/bias": (10,), "shape_fc2/kernel": (10, 5),
      "shape_fc2/bias": (5,), "shape_out/kernel": (5, 1), "shape_out/bias": (1,)}
  # each per-joint head is initialised as one Dense(32 → 1) (Glorot uniform, limit √(6/33))
  assert np.abs(disc.joint_kernel.numpy()).max() <= np.sqrt(6 / 33)
  disc.save(tmp_path / "disc.keras")
  loaded = keras.models.load_model(tmp_path / "disc.keras")
  rotmats, shape = tf.random.normal([4, 24, 3, 3], seed=1), tf.random.normal([4, 10], seed=2)
  np.testing.assert_array_equal(loaded(rotmats, shape), disc(rotmats, shape))
