"""How far each exported file is from the Keras model, and what that costs in accuracy."""

import numpy as np

from hmr_tf.evaluation import evaluate
from hmr_tf.inference import Predictor

# Output -> (unit, factor from the outputs' own unit) of the errors reported.
ERROR_UNITS = {"theta": ("", 1.0), "vertices": ("mm", 1000.0), "keypoints3d": ("mm", 1000.0),
               "keypoints2d": ("crop", 1.0)}


def max_errors(model, predictor, crops, batch_size=32):
  """The largest |difference| per output between the Keras model and an export, same crops.

  Args:
    model: the HMR keras.Model.
    predictor: a hmr_tf.inference.Predictor over the export.
    crops: [N, S, S, 3] float32 in [-1, 1].
    batch_size: crops per Keras call.

  Returns:
    {"theta": …, "vertices_mm": …, "keypoints3d_mm": …, "keypoints2d_crop": …} (keypoints2d
    in [-1, 1] crop units).
  """
  errors = {}
  for start in range(0, len(crops), batch_size):
    batch = crops[start:start + batch_size]
    expected = model(batch, training=False)
    got = predictor(batch)
    for key, (unit, factor) in ERROR_UNITS.items():
      name = f"{key}_{unit}" if unit else key
      error = float(np.abs(got[key] - expected[key].numpy()).max()) * factor
      errors[name] = max(errors.get(name, 0.0), error)
  return errors


def accuracy(model, predictors, dataset_dir, split, batch_size=32):
  """MPJPE and PA-MPJPE (mm) of the Keras model and of each export on a held-out split.

  Args:
    model: the HMR keras.Model.
    predictors: {name: Predictor}.
    dataset_dir: a converted dataset with 3D ground truth.
    split: its held-out split.
    batch_size: images per call.

  Returns:
    {"keras": {"mpjpe", "pa_mpjpe"}, name: {"mpjpe", "pa_mpjpe", "pa_mpjpe_change"}, …}.
  """
  def scores(runner):
    results = evaluate.evaluate_model(runner, dataset_dir, split, batch_size,
                                      body_model=model.smpl, image_size=model.image_size)
    return {"mpjpe": results["mpjpe"], "pa_mpjpe": results["pa_mpjpe"]}

  table = {"keras": scores(model)}
  for name, predictor in predictors.items():
    table[name] = scores(predictor)
    table[name]["pa_mpjpe_change"] = table[name]["pa_mpjpe"] - table["keras"]["pa_mpjpe"]
  return table


def parity_report(model, tflite_paths, crops, dataset_dir=None, split="test"):
  """Every TFLite file's errors against Keras on `crops`, its size, and its accuracy.

  Args:
    model: the HMR keras.Model.
    tflite_paths: {variant: .tflite path}.
    crops: [N, S, S, 3] held-out crops for the output comparison.
    dataset_dir, split: a held-out split with 3D ground truth for MPJPE / PA-MPJPE; None
      skips accuracy.

  Returns:
    {"max_errors": {variant: …}, "accuracy": {…} or None}.
  """
  predictors = {variant: Predictor(path) for variant, path in tflite_paths.items()}
  return {
      "max_errors": {variant: max_errors(model, predictor, crops)
                     for variant, predictor in predictors.items()},
      "accuracy": (accuracy(model, predictors, dataset_dir, split) if dataset_dir else None),
  }
