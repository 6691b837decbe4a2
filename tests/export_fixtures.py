"""One small HMR, exported once per test session and shared by the export, inference and demo
tests (tracing the signatures and converting to TFLite take most of their time)."""

import atexit
import functools
import os
import shutil
import tempfile

import cv2
import keras
import numpy as np

from hmr_tf.export import formats
from hmr_tf.export import saved_model
from hmr_tf.export import tflite
from hmr_tf.models import HMR

SIZE = 64  # crops of the small encoder


@functools.lru_cache(maxsize=None)
def _directory():
  path = tempfile.mkdtemp(prefix="hmr_export_test_")
  atexit.register(shutil.rmtree, path, ignore_errors=True)
  return path


@functools.lru_cache(maxsize=None)
def model():
  keras.utils.set_random_seed(0)
  return HMR(encoder="small", image_size=SIZE)


@functools.lru_cache(maxsize=None)
def saved_model_dir():
  path = os.path.join(_directory(), "saved_model")
  saved_model.export_saved_model(model(), path)
  return path


def crops(count, seed=0):
  """Smooth random crops [count, S, S, 3] in [-1, 1] (image-like, not white noise)."""
  rng = np.random.default_rng(seed)
  coarse = rng.uniform(0, 255, (count, 8, 8, 3)).astype(np.uint8)
  images = np.stack([cv2.resize(c, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC) for c in coarse])
  return images.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)


@functools.lru_cache(maxsize=None)
def tflite_file(variant):
  path = os.path.join(_directory(), formats.tflite_file(variant))
  representative = tflite.representative_samples(crops(8, seed=1)) if variant == "int8" else None
  tflite.write(tflite.convert(model(), variant, saved_model_dir(), representative), path)
  return path
