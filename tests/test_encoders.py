"""Encoders: slim's resnet_v2_50 layout checked against numpy, Keras's names and weight files."""

import os
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from hmr_tf.models import build_encoder
from hmr_tf.models import encoders
from hmr_tf.models import resnet_v2
from hmr_tf.models import small_encoder

SIZE = 64  # the smallest convenient input: every stage keeps at least 2×2 pixels


@pytest.fixture(scope="module")
def keras_resnet():
  keras.utils.set_random_seed(1)
  return keras.applications.ResNet50V2(weights=None, include_top=False, pooling="avg",
                                       input_shape=(SIZE, SIZE, 3))


@pytest.fixture(scope="module")
def ours():
  keras.utils.set_random_seed(2)
  model = build_encoder("resnet50_v2", image_size=SIZE)
  rng = np.random.default_rng(0)
  for layer in model.layers:  # random batch-norm statistics, so that BN is not the identity
    if isinstance(layer, keras.layers.BatchNormalization):
      layer.set_weights([rng.uniform(0.5, 1.5, w.shape) if i in (0, 3) else
                         rng.normal(0.0, 0.3, w.shape) for i, w in enumerate(layer.get_weights())])
  return model


# ---- numpy reference of slim's ops (tf_slim/nets/resnet_utils.py, resnet_v2.py)

def _conv(x, kernel, stride, bias=None):
  """VALID convolution of [H, W, C] by [kh, kw, C, O]."""
  kh, kw = kernel.shape[:2]
  windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))
  y = np.einsum("hwcij,ijco->hwo", windows[::stride, ::stride], kernel)
  return y if bias is None else y + bias


def _conv2d_same(x, kernel, stride):
  """slim's conv2d_same: explicit zero padding of (k − 1) split low-first, then VALID."""
  k = kernel.shape[0]
  return _conv(np.pad(x, [((k - 1) // 2, k // 2)] * 2 + [(0, 0)]), kernel, stride)


def _max_pool_same(x, k, stride):
  """TF's SAME max-pool: the padding needed to cover the input, less before than after, −∞."""
  pads = []
  for n in x.shape[:2]:
    total = max((-(-n // stride) - 1) * stride + k - n, 0)
    pads.append((total // 2, total - total // 2))
  x = np.pad(x, pads + [(0, 0)], constant_values=-np.inf)
  windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(0, 1))
  return windows[::stride, ::stride].max(axis=(-2, -1))


def _batch_norm_relu(x, layer):
  gamma, beta, mean, variance = layer.get_weights()
  assert layer.epsilon == 1e-5 and layer.momentum == 0.997  # slim's resnet_arg_scope
  return np.maximum((x - mean) / np.sqrt(variance + 1e-5) * gamma + beta, 0.0)


def _bottleneck(x, model, unit, stride):
  """slim's bottleneck_v2 in inference mode, with the weights of Keras-named `unit`."""
  get = lambda name: model.get_layer(f"{unit}_{name}")  # pylint: disable=unnecessary-lambda-assignment
  preact = _batch_norm_relu(x, get("preact_bn"))
  if x.shape[-1] != get("3_conv").filters:
    shortcut = _conv(preact, *get("0_conv").get_weights()[:1], stride, get("0_conv").get_weights()[1])
  else:
    shortcut = x[::stride, ::stride]  # slim's subsample: a 1×1 max-pool
  y = _batch_norm_relu(_conv(preact, get("1_conv").get_weights()[0], 1), get("1_bn"))
  y = _batch_norm_relu(_conv2d_same(y, get("2_conv").get_weights()[0], stride), get("2_bn"))
  kernel, bias = get("3_conv").get_weights()
  return shortcut + _conv(y, kernel, 1, bias)


def _submodel(model, first, last):
  return keras.Model(model.get_layer(first).input, model.get_layer(last).output)


def test_root_block_is_slims(ours):
  """conv1 is 7×7/2 conv2d_same with bias; pool1 is 3×3/2 SAME (pads −∞, 0 before / 1 after)."""
  image = np.random.default_rng(1).uniform(-1, 1, (SIZE, SIZE, 3)).astype(np.float32)
  kernel, bias = ours.get_layer("conv1_conv").get_weights()
  expected = _max_pool_same(_conv2d_same(image, kernel, 2) + bias, 3, 2)
  got = _submodel(ours, "conv1_pad", "pool1_pool")(image[None])[0]
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_pool1_pads_like_slim_not_like_keras(ours):
  """On an all-negative input, Keras's zero padding would win the border maxima; slim's not."""
  x = -np.arange(1.0, 33.0).reshape(1, 4, 8, 1).repeat(64, axis=-1).astype(np.float32)
  got = ours.get_layer("pool1_pool")(x)[0, ..., 0].numpy()
  np.testing.assert_array_equal(got, [[-1, -3, -5, -7], [-17, -19, -21, -23]])  # by hand
  keras_way = keras.layers.MaxPooling2D(3, 2)(np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)]))
  assert np.all(keras_way[0, 0, :, 0] == 0)  # the input does tell the two apart


@pytest.mark.parametrize("unit, stride", [
    ("conv2_block3", 2),  # identity unit: strided 3×3 conv2d_same, max-pool subsampled shortcut
    ("conv3_block1", 1),  # first unit of a block: 1×1 projection shortcut of the preactivation
])
def test_bottleneck_units_are_slims(ours, unit, stride):
  x_layer = ours.get_layer(f"{unit}_preact_bn")
  x = np.random.default_rng(2).normal(size=x_layer.input.shape[1:]).astype(np.float32)
  got = _submodel(ours, f"{unit}_preact_bn", f"{unit}_out")(x[None])[0]
  np.testing.assert_allclose(got, _bottleneck(x, ours, unit, stride), rtol=1e-4, atol=1e-4)


def test_strides_on_the_last_unit_of_blocks_1_to_3():
  model = build_encoder("resnet50_v2", image_size=224)
  sizes = {name: model.get_layer(f"{name}_out").output.shape[1]
           for name in ("conv2_block2", "conv2_block3", "conv3_block3", "conv3_block4",
                        "conv4_block6", "conv5_block3")}
  assert sizes == {"conv2_block2": 56, "conv2_block3": 28, "conv3_block3": 28,
                   "conv3_block4": 14, "conv4_block6": 7, "conv5_block3": 7}
  assert model.output.shape[1:] == (2048,)


def test_layers_names_and_shapes_match_keras(ours, keras_resnet):
  def named(model):
    rows = [(type(layer).__name__, layer.name, tuple(layer.output.shape),
             [tuple(w.shape) for w in layer.weights]) for layer in model.layers]
    # Keras leaves its subsampling shortcut pools unnamed (max_pooling2d_N); ours are
    # "<unit>_0_pool". pool1_pad exists only in Keras (slim pads inside the SAME pool).
    return [r for r in rows if not r[1].startswith("max_pooling2d") and not r[1].endswith("_0_pool")
            and r[1] != "pool1_pad"]

  assert [layer.name for layer in ours.layers if layer.name.endswith("_0_pool")] == [
      "conv2_block3_0_pool", "conv3_block4_0_pool", "conv4_block6_0_pool"]
  assert sum(layer.name.startswith("max_pooling2d") for layer in keras_resnet.layers) == 3
  assert named(ours)[1:] == named(keras_resnet)[1:]  # [0] is the input layer
  assert "pool1_pad" not in [layer.name for layer in ours.layers]


def _write_keras2_h5(path, model, skip=()):
  """A weights file in Keras 2's .h5 layout, as keras.applications' ImageNet files are."""
  layers = [layer for layer in model.layers if layer.name not in skip]
  with h5py.File(path, "w") as f:
    f.attrs["layer_names"] = [layer.name.encode() for layer in layers]
    f.attrs["backend"], f.attrs["keras_version"] = b"tensorflow", b"2.2.4"
    for layer in layers:
      group = f.create_group(layer.name)
      weights = layer.trainable_weights + layer.non_trainable_weights
      names = [f"{layer.name}/{w.name}:0" for w in weights]
      group.attrs["weight_names"] = [n.encode() for n in names]
      for name, weight in zip(names, weights):
        group[name] = weight.numpy()


def test_keras_imagenet_layout_loads_by_name(tmp_path, keras_resnet):
  path = str(tmp_path / "resnet50v2_notop.h5")
  _write_keras2_h5(path, keras_resnet)
  model = build_encoder("resnet50_v2", image_size=96, weights=path)
  compared = 0
  for layer in (layer for layer in model.layers if layer.weights):
    for mine, theirs in zip(layer.weights, keras_resnet.get_layer(layer.name).weights):
      np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.path)
      compared += 1
  assert compared == len(keras_resnet.weights) == 270


def test_weights_file_missing_layers_is_reported(tmp_path, keras_resnet):
  path = str(tmp_path / "partial.h5")
  _write_keras2_h5(path, keras_resnet, skip=("post_bn", "conv5_block3_3_conv"))
  with pytest.raises(ValueError, match=r"partial.h5: no weights for 2 layers .*conv5_block3_3_conv"):
    build_encoder("resnet50_v2", image_size=SIZE, weights=path)


def test_keras3_weights_file_round_trip(tmp_path):
  model = build_encoder("small", image_size=32)
  path = str(tmp_path / "small.weights.h5")
  model.save_weights(path)
  loaded = build_encoder("small", image_size=32, weights=path)
  for a, b in zip(model.weights, loaded.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_imagenet_without_internet_fails_clearly(monkeypatch):
  def offline(*args, **kwargs):
    raise Exception("URL fetch failure: no DNS")  # pylint: disable=broad-exception-raised
  monkeypatch.setattr(keras.utils, "get_file", offline)
  with pytest.raises(OSError, match=r"ImageNet weights of 'resnet50_v2' from https://.*"
                                    r"resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5"):
    build_encoder("resnet50_v2", image_size=SIZE, weights="imagenet")


def test_bad_arguments_are_reported(tmp_path):
  with pytest.raises(ValueError, match="unknown encoder 'vgg'"):
    build_encoder("vgg")
  with pytest.raises(FileNotFoundError, match="no encoder weights file at"):
    build_encoder("small", weights=str(tmp_path / "absent.h5"))
  with pytest.raises(ValueError, match="'small' encoder has no ImageNet weights"):
    build_encoder("small", weights="imagenet")


def test_resnet50_v1_gets_caffe_input():
  images = np.random.default_rng(3).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
  rgb255 = (images + 1.0) * 127.5
  expected = rgb255[..., ::-1] - np.array([103.939, 116.779, 123.68])  # BGR, ImageNet mean
  np.testing.assert_allclose(encoders.CaffeInput()(images), expected, rtol=1e-5, atol=1e-3)
  model = build_encoder("resnet50_v1", image_size=32)
  assert model.layers[1].name == "caffe_input" and model.get_layer("conv1_bn")
  assert model(images).shape == (2, 2048)


@pytest.mark.parametrize("name", ["small", "resnet50_v2", "resnet50_v1"])
def test_synchronized_batch_norm_flags(name):
  def flags(model):
    return [layer.get_config()["synchronized"] for layer in model.layers
            if isinstance(layer, keras.layers.BatchNormalization)]
  synced = flags(build_encoder(name, image_size=32, synchronized_bn=True))
  assert len(synced) >= 9 and all(synced)
  assert not any(flags(build_encoder(name, image_size=32)))


# Two replicas on two logical CPUs (set before TensorFlow starts, hence a fresh process), each
# with half of a batch whose halves differ in scale: with synchronized BN, the training-mode
# features equal those of one device on the whole batch; without it they do not.
_TWO_REPLICAS = """
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from hmr_tf.models import build_encoder
images = tf.random.stateless_uniform([4, 16, 16, 3], [1, 2], -1, 1)
images *= tf.constant([1.0, 1.0, 3.0, 3.0])[:, None, None, None]
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
single = build_encoder("small", image_size=16)
expected = single(images, training=True)
for synchronized in (True, False):
  with strategy.scope():
    model = build_encoder("small", image_size=16, synchronized_bn=synchronized)
  model.set_weights(single.get_weights())
  halves = strategy.experimental_distribute_values_from_function(
      lambda ctx: images[2 * ctx.replica_id_in_sync_group:][:2])
  out = tf.function(lambda x: strategy.run(lambda y: model(y, training=True), args=(x,)))(halves)
  print(synchronized, np.abs(tf.concat(strategy.experimental_local_results(out), 0) - expected).max())
"""


def test_synchronized_batch_norm_uses_the_global_batch():
  run = subprocess.run([sys.executable, "-c", _TWO_REPLICAS], capture_output=True, text=True,
                       timeout=120, check=True,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
  errors = dict(line.split() for line in run.stdout.splitlines())
  assert float(errors["True"]) < 1e-4 < 1e-2 < float(errors["False"]), errors


def test_every_weight_has_its_own_slim_variable(ours):
  names = [resnet_v2.slim_variable(layer.name, w.name) for layer in ours.layers
           for w in layer.weights]
  assert len(names) == len(set(names)) == 270
  # by hand, from tf_slim/nets/resnet_v2.py (scopes) and the layers' variable names
  assert names[:2] == ["resnet_v2_50/conv1/weights", "resnet_v2_50/conv1/biases"]
  assert "resnet_v2_50/block1/unit_1/bottleneck_v2/shortcut/biases" in names
  assert "resnet_v2_50/block4/unit_3/bottleneck_v2/conv3/weights" in names
  assert names[-1] == "resnet_v2_50/postnorm/moving_variance"
  assert resnet_v2.slim_variable("conv2_block3_2_bn", "moving_variance") == (
      "resnet_v2_50/block1/unit_3/bottleneck_v2/conv2/BatchNorm/moving_variance")
  assert resnet_v2.slim_variable("conv5_block1_preact_bn", "gamma") == (
      "resnet_v2_50/block4/unit_1/bottleneck_v2/preact/gamma")


def test_small_encoder_sees_coordinates():
  images = np.full((2, 3, 5, 3), 7.0, np.float32)
  with_coordinates = small_encoder.AddCoordinates()(images).numpy()
  np.testing.assert_array_equal(with_coordinates[..., :3], images)
  np.testing.assert_allclose(with_coordinates[1, 2, :, 3], [-1, -0.5, 0, 0.5, 1])  # x
  np.testing.assert_allclose(with_coordinates[1, :, 4, 4], [-1, 0, 1])  # y
  model = build_encoder("small", image_size=SIZE)
  assert model.get_layer("stem_conv").kernel.shape == (3, 3, 5, 32)
  assert model.output.shape[1:] == (256,)
