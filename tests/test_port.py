"""The original HMR checkpoint's port, against an independent numpy forward of the original.

The test writes a checkpoint as the original's trainer did: a TF1 graph holding slim's
resnet_v2_50 variables, the 3D_module regressor and mean_param (plus variables the port must
ignore), saved with tf.compat.v1.train.Saver; the names and shapes below are spelled from
tf_slim/nets/resnet_v2.py and akanazawa/hmr src/models.py, not from hmr_tf. The reference is
a numpy forward of slim's resnet_v2_50 (conv2d_same, SAME max-pool, batch norm with epsilon
1e-5, pre-activation bottlenecks, stride on each block's last unit) and of RunModel's three
regressor iterations, in float64, on the same variables.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import smpl_files
from hmr_tf.checks import BadInput
from hmr_tf.export import original
from hmr_tf.inference import Predictor
from test_encoders import _conv, _conv2d_same, _max_pool_same  # numpy slim ops

SIZE = 64  # small input: the encoder's weights do not depend on it
EPSILON = 1e-5  # slim resnet_arg_scope's batch_norm_epsilon
BLOCKS = ((64, 3, 2), (128, 4, 2), (256, 6, 2), (512, 3, 1))  # resnet_v2_50: depth, units, stride


def slim_variables(seed=0):
  """name -> array: the variables of the original's graph, with slim's names and shapes."""
  rng = np.random.default_rng(seed)
  v = {}

  def conv(scope, k, cin, cout, bias, gain=1.0):
    v[f"{scope}/weights"] = rng.normal(0, gain * np.sqrt(2 / (k * k * cin)), (k, k, cin, cout))
    if bias:
      v[f"{scope}/biases"] = rng.normal(0, 0.1, cout)

  def batch_norm(scope, c):
    v[f"{scope}/gamma"], v[f"{scope}/beta"] = rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c)
    v[f"{scope}/moving_mean"] = rng.normal(0, 0.1, c)
    v[f"{scope}/moving_variance"] = rng.uniform(0.5, 1.5, c)

  conv("resnet_v2_50/conv1", 7, 3, 64, bias=True)
  depth_in = 64
  for b, (depth, units, _) in enumerate(BLOCKS, start=1):
    for u in range(1, units + 1):
      scope = f"resnet_v2_50/block{b}/unit_{u}/bottleneck_v2"
      batch_norm(f"{scope}/preact", depth_in)
      if depth_in != 4 * depth:
        conv(f"{scope}/shortcut", 1, depth_in, 4 * depth, bias=True)
      conv(f"{scope}/conv1", 1, depth_in, depth, bias=False)
      batch_norm(f"{scope}/conv1/BatchNorm", depth)
      conv(f"{scope}/conv2", 3, depth, depth, bias=False)
      batch_norm(f"{scope}/conv2/BatchNorm", depth)
      conv(f"{scope}/conv3", 1, depth, 4 * depth, bias=True, gain=0.3)  # a tame residual stream
      depth_in = 4 * depth
  batch_norm("resnet_v2_50/postnorm", 2048)
  for fc, (fan_in, fan_out) in {"fc1": (2048 + 85, 1024), "fc2": (1024, 1024),
                                "fc3": (1024, 85)}.items():
    v[f"3D_module/{fc}/weights"] = rng.normal(0, 1 / np.sqrt(fan_in), (fan_in, fan_out))
    v[f"3D_module/{fc}/biases"] = rng.normal(0, 0.05, fan_out)
  pose = rng.normal(0, 0.2, 72)
  pose[:3] = (np.pi, 0, 0)  # the original's mean: upright root, s = 0.9
  v["mean_param"] = np.concatenate([[0.9, 0, 0], pose, rng.normal(0, 0.5, 10)])[None]
  return v


def write_tf1_checkpoint(variables, prefix):
  """Saves `variables` as the original's tf.train.Saver did, plus variables to be ignored."""
  ignored = {"D/theta_D_fc1/weights": np.zeros((4, 4)), "global_step": np.int64(667589),
             "resnet_v2_50/conv1/weights/Adam": np.zeros((7, 7, 3, 64))}
  with tf.Graph().as_default():
    tf1_variables = [tf.compat.v1.Variable(value.astype(value.dtype if value.dtype == np.int64
                                                        else np.float32), name=name)
                     for name, value in {**variables, **ignored}.items()]
    saver = tf.compat.v1.train.Saver(tf1_variables)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      return saver.save(session, prefix, global_step=667589)


def _batch_norm_relu(x, v, scope):
  normed = (x - v[f"{scope}/moving_mean"]) / np.sqrt(v[f"{scope}/moving_variance"] + EPSILON)
  return np.maximum(normed * v[f"{scope}/gamma"] + v[f"{scope}/beta"], 0.0)


def slim_resnet_v2_50(image, v):
  """[H, W, 3] in [-1, 1] -> [2048]: resnet_v2_50, num_classes=None, is_training=False."""
  net = _conv2d_same(image, v["resnet_v2_50/conv1/weights"], 2) + v["resnet_v2_50/conv1/biases"]
  net = _max_pool_same(net, 3, 2)
  for b, (depth, units, stride) in enumerate(BLOCKS, start=1):
    for u in range(1, units + 1):
      scope = f"resnet_v2_50/block{b}/unit_{u}/bottleneck_v2"
      unit_stride = stride if u == units else 1
      preact = _batch_norm_relu(net, v, f"{scope}/preact")
      if net.shape[-1] == 4 * depth:
        shortcut = net[::unit_stride, ::unit_stride]  # subsample: a 1×1 max-pool
      else:
        shortcut = _conv(preact, v[f"{scope}/shortcut/weights"], unit_stride,
                         v[f"{scope}/shortcut/biases"])
      residual = _batch_norm_relu(_conv(preact, v[f"{scope}/conv1/weights"], 1), v,
                                  f"{scope}/conv1/BatchNorm")
      residual = _batch_norm_relu(_conv2d_same(residual, v[f"{scope}/conv2/weights"],
                                               unit_stride), v, f"{scope}/conv2/BatchNorm")
      net = shortcut + _conv(residual, v[f"{scope}/conv3/weights"], 1, v[f"{scope}/conv3/biases"])
  return _batch_norm_relu(net, v, "resnet_v2_50/postnorm").mean(axis=(0, 1))  # pool5


def original_thetas(images, v):
  """RunModel.build_test_model_ief: [N, 3, 85], Θ after each of the 3 iterations."""
  features = np.stack([slim_resnet_v2_50(image, v) for image in images])
  theta = np.tile(v["mean_param"], (len(images), 1))
  thetas = []
  for _ in range(3):
    hidden = np.concatenate([features, theta], axis=1)
    for fc in ("fc1", "fc2"):
      hidden = np.maximum(hidden @ v[f"3D_module/{fc}/weights"] + v[f"3D_module/{fc}/biases"], 0)
    theta = theta + hidden @ v["3D_module/fc3/weights"] + v["3D_module/fc3/biases"]
    thetas.append(theta)
  return np.stack(thetas, axis=1)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
  variables = slim_variables()
  prefix = write_tf1_checkpoint(variables, str(tmp_path_factory.mktemp("hmr") / "model.ckpt"))
  return prefix, variables


def test_port_gives_the_originals_theta(checkpoint):
  prefix, variables = checkpoint
  assert prefix.endswith("model.ckpt-667589")
  model = original.load_original(prefix, body_model="free", image_size=SIZE)
  images = np.random.default_rng(1).uniform(-1, 1, (2, SIZE, SIZE, 3))
  expected = original_thetas(images, variables)
  got = model(images.astype(np.float32), training=False)
  assert np.abs(expected[:, -1] - expected[:, 0]).max() > 0.1  # the iterations do move Θ
  np.testing.assert_allclose(got["thetas"], expected, rtol=0, atol=1e-4)
  # Θ's layout: [s, tx, ty | pose | shape]
  np.testing.assert_allclose(got["camera"], expected[:, -1, :3], atol=1e-4)
  np.testing.assert_allclose(got["shape"], expected[:, -1, 75:], atol=1e-4)


def test_a_missing_variable_is_named(checkpoint, tmp_path):
  variables = dict(checkpoint[1])
  del variables["resnet_v2_50/block3/unit_2/bottleneck_v2/conv2/BatchNorm/gamma"]
  prefix = write_tf1_checkpoint(variables, str(tmp_path / "model.ckpt"))
  with pytest.raises(BadInput, match=r"model.ckpt-667589: not an original HMR checkpoint: 1 "
                                     r".*block3/unit_2/bottleneck_v2/conv2/BatchNorm/gamma"):
    original.load_original(prefix, body_model="free", image_size=SIZE)


def test_a_wrong_shape_is_named(checkpoint, tmp_path):
  _, variables = checkpoint
  variables = dict(variables, **{"3D_module/fc1/weights": np.zeros((2048, 1024))})
  prefix = write_tf1_checkpoint(variables, str(tmp_path / "model.ckpt"))
  with pytest.raises(BadInput, match=r"'3D_module/fc1/weights' has shape \[2048, 1024\]; "
                                     r"expected \[2133, 1024\]"):
    original.load_original(prefix, body_model="free", image_size=SIZE)


def test_not_a_checkpoint(tmp_path):
  path = tmp_path / "model.ckpt-1.index"
  path.write_bytes(b"not a checkpoint")
  with pytest.raises(BadInput, match="not a readable TF checkpoint"):
    original.load_original(os.fspath(tmp_path / "model.ckpt-1"), body_model="free")


def test_hmr_export_cli_ports_to_a_savedmodel(checkpoint, tmp_path):
  """hmr-export --from_hmr_checkpoint, with the original's body-model file format: the
  SavedModel gives the original's Θ."""
  prefix, variables = checkpoint
  body_model = str(tmp_path / "neutral_smpl_with_cocoplus_reg.pkl")
  smpl_files.write_smpl_v1_pkl(smpl_files.random_body_model(), body_model, cocoplus=True)
  output = tmp_path / "hmr_original"
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  done = subprocess.run([sys.executable, "-m", "hmr_tf.cli.export", f"--from_hmr_checkpoint={prefix}",
                         f"--body_model={body_model}", f"--image_size={SIZE}", f"--output={output}"],
                        capture_output=True, text=True, env=env, check=False, timeout=900)
  assert done.returncode == 0, done.stderr[-3000:]
  images = np.random.default_rng(2).uniform(-1, 1, (2, SIZE, SIZE, 3))
  got = Predictor(str(output))(images.astype(np.float32))
  np.testing.assert_allclose(got["theta"], original_thetas(images, variables)[:, -1], atol=1e-4)
  assert got["vertices"].shape == (2, smpl_files.SMPL_NUM_VERTS, 3)
