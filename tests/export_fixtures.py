"""One small HMR exported once per test session, as hmr-export writes it (SavedModel, every
TFLite variant, report.json), shared by the export, inference and demo tests: tracing the
signatures and converting take most of their time.

The int8 file is calibrated on a tiny synthetic world's train split, and the report measures
on its test split (free body, 32 px renders).
"""

import atexit
import functools
import json
import os
import shutil
import tempfile

import cv2
import keras
import numpy as np

from hmr_tf.export import formats
from hmr_tf.export import tflite
from hmr_tf.export import writer
from hmr_tf.models import HMR
from hmr_tf.synth import generate
from hmr_tf.synth import split

SIZE = 64  # crops of the small encoder
WORLD_SIZE = 32  # synthetic renders
NUM_EXAMPLES = 8  # per split


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
def synthetic_world():
  """A converted dataset folder with "train" and "test" splits of NUM_EXAMPLES people."""
  path = os.path.join(_directory(), "synth")
  for name, seed in (("train", 0), ("test", 1)):
    split.write_split(generate.SynthWorld(["free"], image_size=WORLD_SIZE, seed=seed), path,
                      name, NUM_EXAMPLES)
  return path


@functools.lru_cache(maxsize=None)
def export_dir():
  """The hmr-export output of model(): the SavedModel directory, tflite/ inside."""
  path = os.path.join(_directory(), "saved_model")
  world = synthetic_world()
  calibration = writer.load_crops(world, "train", SIZE, NUM_EXAMPLES)
  writer.write_export(model(), path, tflite.VARIANTS, calibration,
                      held_out=(world, "test", NUM_EXAMPLES))
  return path


def saved_model_dir():
  return export_dir()


def tflite_file(variant):
  return os.path.join(export_dir(), formats.TFLITE_DIR, formats.tflite_file(variant))


def export_report():
  with open(os.path.join(export_dir(), formats.TFLITE_DIR, writer.REPORT_FILE),
            encoding="utf-8") as f:
    return json.load(f)


def crops(count, seed=0):
  """Smooth random crops [count, S, S, 3] in [-1, 1] (image-like, not white noise)."""
  rng = np.random.default_rng(seed)
  coarse = rng.uniform(0, 255, (count, 8, 8, 3)).astype(np.uint8)
  images = np.stack([cv2.resize(c, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC) for c in coarse])
  return images.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)
