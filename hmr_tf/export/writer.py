"""An export directory, written whole or not at all: the SavedModel, TFLite files, their report.

  <output>/                      the SavedModel (hmr_tf/export/saved_model.py)
  <output>/tflite/<variant>.tflite
  <output>/tflite/report.json    per variant: size, largest differences from the Keras model
                                 on held-out crops, and MPJPE / PA-MPJPE on a held-out split
"""

import json
import os
import shutil

import numpy as np

from hmr_tf import atomic
from hmr_tf.checks import BadInput
from hmr_tf.data import pipeline
from hmr_tf.export import formats
from hmr_tf.export import report
from hmr_tf.export import saved_model
from hmr_tf.export import tflite

REPORT_FILE = "report.json"


def load_crops(dataset_dir, split, image_size, count):
  """The first `count` centre crops [n, S, S, 3] of a converted split."""
  crops = []
  for batch in pipeline.eval_dataset(dataset_dir, min(count, 64), image_size, split):
    crops.append(batch["image"].numpy())
    if sum(len(c) for c in crops) >= count:
      break
  if not crops:
    raise BadInput(f"{dataset_dir}: the '{split}' split has no examples")
  return np.concatenate(crops)[:count]


def check_request(variants, calibration):
  """ValueError unless `variants` are TFLite variants, with calibration (true) for int8."""
  unknown = set(variants) - set(tflite.VARIANTS)
  if unknown:
    raise ValueError(f"unknown TFLite variants {sorted(unknown)}; expected some of "
                     f"{list(tflite.VARIANTS)}")
  if "int8" in variants and not calibration:
    raise ValueError("the int8 variant needs calibration data (a converted dataset)")


def write_export(model, output, variants=(), calibration_crops=None, held_out=None):
  """The SavedModel, the TFLite variants and their report, each written whole or not at all.

  Args:
    model: an HMR keras.Model.
    output: the SavedModel directory (replaced).
    variants: TFLite variants (tflite.VARIANTS).
    calibration_crops: [M, S, S, 3] crops in [-1, 1] that calibrate int8 (load_crops of a
      training split), or None.
    held_out: (dataset dir, split, count) for the report, or None (then random crops are
      compared and accuracy is not measured).

  Returns:
    The report dict ({} without variants).
  """
  check_request(variants, calibration_crops is not None)
  size = model.image_size
  staging = f"{os.path.abspath(output)}.partial"  # a crashed run's leftovers are replaced
  shutil.rmtree(staging, ignore_errors=True)
  try:
    saved_model.export_saved_model(model, staging)
    results = {}
    if variants:
      representative = (None if calibration_crops is None else
                        tflite.representative_samples(calibration_crops))
      paths = {}
      os.makedirs(os.path.join(staging, formats.TFLITE_DIR))
      for variant in variants:
        paths[variant] = os.path.join(staging, formats.TFLITE_DIR, formats.tflite_file(variant))
        tflite.write(tflite.convert(model, variant, staging, representative), paths[variant])
      crops = (load_crops(*held_out[:2], size, held_out[2]) if held_out else
               np.random.default_rng(0).uniform(-1, 1, (8, size, size, 3)).astype(np.float32))
      results = report.parity_report(model, paths, crops, *(held_out[:2] if held_out else ()))
      results["file_mb"] = {v: os.path.getsize(p) / 2**20 for v, p in paths.items()}
      with atomic.atomic_write(os.path.join(staging, formats.TFLITE_DIR, REPORT_FILE), "w") as f:
        json.dump(results, f, indent=2)
    replace_directory(staging, output)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  return results


def replace_directory(new, path):
  """Puts directory `new` at `path`; an old `path` is removed only once `new` is complete."""
  old = f"{os.path.abspath(path)}.old"
  shutil.rmtree(old, ignore_errors=True)
  if os.path.exists(path):
    os.replace(path, old)
  os.replace(new, path)
  shutil.rmtree(old, ignore_errors=True)
