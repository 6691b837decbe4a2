"""Image encoders: images [B, S, S, 3] in [-1, 1] -> global-pooled features [B, F]."""

import os

import h5py
import keras
import numpy as np

from hmr_tf.models import resnet_v2
from hmr_tf.models import small_encoder

ENCODERS = ("resnet50_v2", "resnet50_v1", "small")
WEIGHT_CHOICES = "None, 'imagenet' or a weights file path"

# keras.applications' no-top ImageNet files (URL, MD5 as keras.applications checks it); their
# layer names are those of our ResNets.
_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
IMAGENET_FILES = {
    "resnet50_v2": (_KERAS_WEIGHTS + "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "fac2f116257151a9d068a22e544a4917"),
    "resnet50_v1": (_KERAS_WEIGHTS + "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "4d473c1dd8becc155b73f8504c6f6626"),
}

# keras.applications.ResNet50 wants caffe-style input: BGR, 0–255, minus the ImageNet mean.
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="hmr_tf")
class CaffeInput(keras.layers.Layer):
  """RGB in [-1, 1] -> caffe-style input (BGR, 0–255, mean-subtracted): [..., 3] -> [..., 3]."""

  def call(self, images):
    bgr = keras.ops.flip(images, axis=-1)
    return (bgr + 1.0) * 127.5 - keras.ops.convert_to_tensor(CAFFE_BGR_MEAN, images.dtype)


def build_encoder(name="resnet50_v2", image_size=224, weights=None, synchronized_bn=False):
  """An image encoder ending in a global-pooled feature.

  Args:
    name: "resnet50_v2" (slim's resnet_v2_50, HMR's encoder; see hmr_tf.models.resnet_v2),
      "resnet50_v1" (keras.applications.ResNet50) or "small" (hmr_tf.models.small_encoder).
    image_size: S, the side of the square input images.
    weights: None (random), "imagenet" (downloaded once into ~/.keras/models) or the path of
      a weights file: a Keras 2 .h5 file is loaded by layer name (as Keras's ImageNet files
      are), a Keras 3 .weights.h5 file by the model's structure.
    synchronized_bn: make every BatchNormalization synchronized across replicas, so that
      batch statistics are those of the global batch under a distribution strategy.

  Returns:
    A keras.Model: images [B, S, S, 3] float in [-1, 1] -> features [B, F]
    (F = 2048 for the ResNets, 256 for "small").
  """
  if name not in ENCODERS:
    raise ValueError(f"unknown encoder '{name}'; expected one of {ENCODERS}")
  if not (weights in (None, "imagenet") or isinstance(weights, (str, os.PathLike))):
    raise ValueError(f"weights should be {WEIGHT_CHOICES}. Received: weights={weights!r}")
  if weights not in (None, "imagenet") and not os.path.isfile(weights):
    raise FileNotFoundError(f"no encoder weights file at {weights}")
  if weights == "imagenet" and name not in IMAGENET_FILES:
    raise ValueError(f"the '{name}' encoder has no ImageNet weights; use weights=None")

  if name == "resnet50_v1":
    images = keras.Input((image_size, image_size, 3), name="images")
    model = keras.applications.ResNet50(
        include_top=False, weights=None, input_tensor=CaffeInput(name="caffe_input")(images),
        pooling="avg", name=name)
  elif name == "resnet50_v2":
    model = resnet_v2.resnet50_v2(image_size, name=name)
  else:
    model = small_encoder.small_resnet(image_size, name=name)
  if weights is not None:
    load_weights(model, imagenet_file(name) if weights == "imagenet" else weights)
  if synchronized_bn:
    synchronize_batch_norm(model)
  return model


def synchronize_batch_norm(model):
  """Sets synchronized=True on every BatchNormalization layer of `model`, in place.

  Must run before the first traced call: the layer reads the flag when its call is traced.
  """
  for layer in _all_layers(model):
    if isinstance(layer, keras.layers.BatchNormalization):
      layer.synchronized = True


def _all_layers(model):
  for layer in model.layers:
    yield layer
    if isinstance(layer, keras.Model):
      yield from _all_layers(layer)


def imagenet_file(name):
  """Path of the encoder's ImageNet weights, downloaded once into ~/.keras/models."""
  url, md5 = IMAGENET_FILES[name]
  try:
    return keras.utils.get_file(os.path.basename(url), url, cache_subdir="models",
                                file_hash=md5)
  except Exception as e:  # get_file raises several types; each means "no file"
    raise OSError(f"could not download the ImageNet weights of '{name}' from {url} ({e}). "
                  "Without internet, fetch that file elsewhere and pass its path as the "
                  "encoder weights") from e


def load_weights(model, path):
  """Loads a weights file into `model`: Keras 2 .h5 files by layer name, others by structure.

  A by-name load must cover every layer of `model` that has weights; the error names the
  file and the layers it lacks.
  """
  path = os.fspath(path)
  if path.endswith(".weights.h5") or not path.endswith((".h5", ".hdf5")):
    model.load_weights(path)
    return
  with h5py.File(path, "r") as f:
    group = f["model_weights"] if "layer_names" not in f.attrs and "model_weights" in f else f
    if "layer_names" not in group.attrs:
      raise ValueError(f"{path}: not a Keras .h5 weights file (no 'layer_names' attribute)")
    in_file = {n.decode() if isinstance(n, bytes) else str(n)
               for n in np.asarray(group.attrs["layer_names"])}
  missing = [layer.name for layer in model.layers if layer.weights and layer.name not in in_file]
  if missing:
    raise ValueError(f"{path}: no weights for {len(missing)} layers of {model.name}, e.g. "
                     f"{missing[:5]}; expected a file with Keras ResNet50V2's layer names")
  model.load_weights(path, by_name=True)
