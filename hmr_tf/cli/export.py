"""hmr-export: a trained HMR, or the authors' released checkpoint, as a SavedModel and TFLite.

  hmr-export --workdir runs/q --output saved_models/q [--step N]
      [--tflite fp32,fp16,int8_dynamic,int8] [--calibration_data DIR] [--eval_data DIR]
  hmr-export --from_hmr_checkpoint models/model.ckpt-667589 --body_model SMPL.pkl
      --output saved_models/hmr_original [--tflite …] [--calibration_data DIR]

Writes the SavedModel (signatures serving_default, serve_boxes, serve_crops: see
hmr_tf/export/saved_model.py and saved_models/README.md), and with --tflite the chosen
variants as <output>/tflite/<variant>.tflite plus <output>/tflite/report.json: each file's size,
its largest output differences from the Keras model on held-out crops, and, where a held-out
split with 3D ground truth is given, MPJPE and PA-MPJPE of Keras and of each file.

The full-integer int8 variant is calibrated on crops of --calibration_data (a converted
dataset; a workdir's first data.train folder by default). The held-out crops and the accuracy
split come from --eval_data (a workdir's data.eval by default).

--from_hmr_checkpoint ports the original TF1 checkpoint (akanazawa/hmr, models/
model.ckpt-667589) onto this package's HMR; --body_model is the SMPL file the original used,
neutral_smpl_with_cocoplus_reg.pkl (licensed: get it from the original's download script), or
"free" for the free body (a different mesh for the same Θ).
"""

from absl import app
from absl import flags
from absl import logging

from hmr_tf.export import original
from hmr_tf.export import tflite
from hmr_tf.export import writer
from hmr_tf.training import inputs
from hmr_tf.training import workdir

_WORKDIR = flags.DEFINE_string("workdir", None, "A training workdir to export.")
_STEP = flags.DEFINE_integer("step", None, "The workdir's checkpointed step (default: latest).")
_CHECKPOINT = flags.DEFINE_string(
    "from_hmr_checkpoint", None, "The original HMR's TF1 checkpoint prefix to port instead, "
    "e.g. models/model.ckpt-667589.")
_BODY_MODEL = flags.DEFINE_string(
    "body_model", None, "With --from_hmr_checkpoint: the original's SMPL file "
    "(neutral_smpl_with_cocoplus_reg.pkl) or 'free'.")
_IMAGE_SIZE = flags.DEFINE_integer("image_size", original.IMAGE_SIZE,
                                   "With --from_hmr_checkpoint: the input side.", lower_bound=32)
_OUTPUT = flags.DEFINE_string("output", None, "The SavedModel directory to write.")
_TFLITE = flags.DEFINE_list("tflite", [], f"TFLite variants to write: {','.join(tflite.VARIANTS)}.")
_CALIBRATION_DATA = flags.DEFINE_string(
    "calibration_data", None, "Converted dataset whose crops calibrate int8 (default: the "
    "workdir's first data.train folder).")
_CALIBRATION_SPLIT = flags.DEFINE_string("calibration_split", "train", "Its split.")
_NUM_CALIBRATION = flags.DEFINE_integer("num_calibration", 100, "Calibration crops.",
                                        lower_bound=1)
_EVAL_DATA = flags.DEFINE_string(
    "eval_data", None, "Held-out converted dataset for the TFLite report (default: the "
    "workdir's data.eval).")
_EVAL_SPLIT = flags.DEFINE_string("eval_split", None, "Its split (default: the workdir's "
                                  "data.eval_split, else test).")
_NUM_PARITY = flags.DEFINE_integer("num_parity", 64, "Held-out crops compared with Keras.",
                                   lower_bound=1)

flags.mark_flags_as_required(["output"])
flags.mark_flags_as_mutual_exclusive(["workdir", "from_hmr_checkpoint"], required=True)


def _log_report(results):
  if not results:
    return
  logging.info("%-13s %9s %10s %13s %15s", "variant", "size MB", "Θ max err",
               "vertices mm", "keypoints3d mm")
  for variant, errors in results["max_errors"].items():
    logging.info("%-13s %9.1f %10.2e %13.3f %15.3f", variant, results["file_mb"][variant],
                 errors["theta"], errors["vertices_mm"], errors["keypoints3d_mm"])
  for name, numbers in (results["accuracy"] or {}).items():
    logging.info("%-13s MPJPE %.1f mm, PA-MPJPE %.1f mm%s", name, numbers["mpjpe"],
                 numbers["pa_mpjpe"], f" ({numbers['pa_mpjpe_change']:+.2f})"
                 if "pa_mpjpe_change" in numbers else "")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if _CHECKPOINT.value and not _BODY_MODEL.value:
    raise app.UsageError(
        "--from_hmr_checkpoint needs --body_model: the original predicts Θ for "
        "neutral_smpl_with_cocoplus_reg.pkl (pass its path), or pass 'free' for the free body")
  calibration_data, eval_data = _CALIBRATION_DATA.value, _EVAL_DATA.value
  eval_split = _EVAL_SPLIT.value
  if _WORKDIR.value:
    config = workdir.load_config(_WORKDIR.value)[0]
    train = inputs.parse_datasets(config.data.train, "data.train")
    calibration_data = calibration_data or (list(train)[0] if train else None)
    eval_data = eval_data or config.data.eval or None
    eval_split = eval_split or config.data.eval_split
  try:
    writer.check_request(_TFLITE.value, bool(calibration_data))
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  if _WORKDIR.value:
    model, _ = workdir.load_model(_WORKDIR.value, _STEP.value)
  else:
    model = original.load_original(_CHECKPOINT.value, _BODY_MODEL.value, _IMAGE_SIZE.value)
  calibration_crops = None
  if calibration_data and "int8" in _TFLITE.value:
    calibration_crops = writer.load_crops(calibration_data, _CALIBRATION_SPLIT.value,
                                          model.image_size, _NUM_CALIBRATION.value)
  results = writer.write_export(
      model, _OUTPUT.value, _TFLITE.value, calibration_crops,
      held_out=((eval_data, eval_split or "test", _NUM_PARITY.value) if eval_data else None))
  _log_report(results)
  logging.info("exported to %s", _OUTPUT.value)


def run():
  app.run(main)


if __name__ == "__main__":
  run()
