"""hmr-evaluate: a model's numbers on a converted split, under the benchmark's protocols.

  hmr-evaluate --workdir runs/q --dataset datasets/h36m --output eval/h36m [--split test]
      [--protocol h36m_p1,h36m_p2] [--save_predictions] [--step 20000] [--batch_size 32]
  hmr-evaluate --model saved_models/q --dataset datasets/pw3d --output eval/pw3d

--workdir restores a training run's checkpoint (the latest, or --step's); --model takes an
export (a SavedModel folder or a .tflite file, through hmr_tf.inference.Predictor). The
protocol follows from the dataset's info.json unless --protocol names one (see
hmr_tf.evaluation.protocols). Prints the headline numbers and the per-joint and per-action
(or per-sequence) tables, and writes to --output:
  metrics.json      every number: "mpjpe", "pa_mpjpe" in mm, medians, per joint, per action, …
  per_joint.png     the per-joint error
  predictions.npz   with --save_predictions: "pred_joints" and "gt_joints" [N, 14, 3] in metres,
                    "image_ids", and the rest needed to recompute any metric
"""

from absl import app
from absl import flags
from absl import logging

from hmr_tf.evaluation import evaluate
from hmr_tf.evaluation import protocols
from hmr_tf.evaluation import report
from hmr_tf.evaluation import scoring
from hmr_tf.training import workdir as workdir_lib

_WORKDIR = flags.DEFINE_string("workdir", None, "Training run whose checkpoint to evaluate.")
_MODEL = flags.DEFINE_string("model", None, "An export instead: SavedModel folder or .tflite.")
_STEP = flags.DEFINE_integer("step", None, "With --workdir: the checkpoint step (default: the "
                             "latest).")
_DATASET = flags.DEFINE_string("dataset", None, "Converted dataset directory.", required=True)
_SPLIT = flags.DEFINE_string("split", "test", "Split to evaluate.")
_OUTPUT = flags.DEFINE_string("output", None, "Directory for the results.", required=True)
_PROTOCOL = flags.DEFINE_string(
    "protocol", None, f"Comma-separated protocols of {sorted(protocols.PROTOCOLS)}; default: "
    "the dataset's own (h36m: h36m_p1,h36m_p2).")
_SAVE_PREDICTIONS = flags.DEFINE_boolean("save_predictions", False,
                                         "Also write predictions.npz.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 32, "Images per model call.", lower_bound=1)
_BODY_MODEL = flags.DEFINE_string(
    "body_model", None, "Body model that poses SMPL ground truth (3DPW, PVE); default: the "
    "model's own, else 'free'.")


def load_model(workdir, model_path, step=None):
  """The model to evaluate: a workdir's checkpoint, or an export through inference.Predictor."""
  if (workdir is None) == (model_path is None):
    raise app.UsageError("give one of --workdir (a training run) and --model (an export)")
  if model_path is not None:
    # Exports are read by the inference module (issue 9's export part); imported here so that
    # evaluating a checkpoint never loads the TFLite runtime.
    from hmr_tf import inference  # pylint: disable=import-outside-toplevel
    return inference.Predictor(model_path)
  model, _ = workdir_lib.load_model(workdir, step=step)
  return model


def main(argv):
  del argv
  model = load_model(_WORKDIR.value, _MODEL.value, _STEP.value)
  predictions = evaluate.predict(model, _DATASET.value, _SPLIT.value, _BATCH_SIZE.value,
                                 body_model=_BODY_MODEL.value, progress=True)
  chosen = protocols.protocols_for(predictions.dataset, _PROTOCOL.value)
  results = scoring.score_all(predictions, chosen)
  paths = report.write(_OUTPUT.value, results,
                       predictions if _SAVE_PREDICTIONS.value else None)
  print(report.tables(results))
  logging.info("wrote %s", ", ".join(paths))


def run():
  app.run(main)


if __name__ == "__main__":
  run()
