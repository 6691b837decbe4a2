"""hmr-quickstart: the embedded default, end to end, on a laptop CPU (what `make demo` runs).

  hmr-quickstart --output demo_output [--num_train 3000] [--num_test 300] [--train_steps N]
      [--photos ../shared/data/hmr_demo]

No download and no licence: the free body model, the synthetic world, and six stages:
  1. synth     the train (seed 0) and test (seed 1) splits of the synthetic world, and the
               discriminator's pool of joint-limit poses (seed 2): three seeds, so the prior is
               unpaired, as in the paper, and no test person is in either; the pool's mean pose
               is the regressor's Θ₀ (mean_params.npz), as HMR starts from its data's mean.
               input_batch.png shows one augmented training batch.
  2. train     configs/quickstart.py on the train split, into run/ (checkpoints, TensorBoard
               logs in run/logs).
  3. evaluate  MPJPE and PA-MPJPE on the test split, beside the mean-pose baseline (Θ₀ for every
               image), into eval/ and eval/baseline/.
  4. export    the SavedModel and its fp32 TFLite file into saved_model/.
  5. demo      hmr-demo's files (overlay, side view, .obj, .ply, .json) for a few test images
               and for the photos in --photos, where that folder exists, into demo/.
  6. summary   the table and the outputs; summary.json holds the same numbers.

A finished stage leaves stages/<stage>.json (its result and seconds): a rerun reuses it, and
refuses an --output made with other settings.
"""

import importlib.util
import json
import os
import time

from absl import app
from absl import flags
from absl import logging
import numpy as np
import tensorflow as tf

from hmr_tf import atomic
from hmr_tf import demo_files
from hmr_tf import inference
from hmr_tf import joints
from hmr_tf import render
from hmr_tf.checks import BadInput
from hmr_tf.cli import report
from hmr_tf.data import outputs
from hmr_tf.data import pipeline
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.evaluation import baselines
from hmr_tf.evaluation import evaluate
from hmr_tf.evaluation import report as eval_report
from hmr_tf.export import formats
from hmr_tf.export import writer
from hmr_tf.synth import benchmark
from hmr_tf.training import trainer
from hmr_tf.training import workdir as workdir_lib

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_CONFIG = os.path.join(_ROOT, "configs", "quickstart.py")

_OUTPUT = flags.DEFINE_string("output", "demo_output", "Directory for the results.")
_BODY_MODEL = flags.DEFINE_string(
    "body_model", "free", "Body model: 'free', 'free:<variant>:<gender>' or an SMPL file.")
_NUM_TRAIN = flags.DEFINE_integer("num_train", benchmark.NUM_TRAIN,
                                  "Synthetic training images.", lower_bound=16)
_NUM_TEST = flags.DEFINE_integer("num_test", benchmark.NUM_TEST, "Synthetic test images.",
                                 lower_bound=1)
_NUM_POOL = flags.DEFINE_integer("num_pool", benchmark.NUM_POOL,
                                 "Joint-limit poses for the discriminator.", lower_bound=16)
_TRAIN_STEPS = flags.DEFINE_integer(
    "train_steps", None, "Training steps (default: configs/quickstart.py's).", lower_bound=1)
_PHOTOS = flags.DEFINE_string(
    "photos", os.path.join(os.path.dirname(_ROOT), "shared", "data", "hmr_demo"),
    "A folder of photos for the demo (with <name>_keypoints.json where there is one); skipped "
    "where it does not exist.")
_NUM_DEMO = flags.DEFINE_integer("num_demo", 4, "Test images the demo runs on.", lower_bound=0)

TOOL = "hmr-quickstart"
STAGES = ("synth", "train", "evaluate", "export", "demo")
_BATCH_SHEET = 16
_TFLITE = "fp32"  # the TFLite variant exported: the others add minutes of conversion
_SKELETON = [(joints.COCOPLUS_19.index(a), joints.COCOPLUS_19.index(b)) for a, b in [
    ("right_ankle", "right_knee"), ("right_knee", "right_hip"), ("left_ankle", "left_knee"),
    ("left_knee", "left_hip"), ("right_wrist", "right_elbow"), ("right_elbow", "right_shoulder"),
    ("left_wrist", "left_elbow"), ("left_elbow", "left_shoulder"), ("right_hip", "left_hip"),
    ("right_shoulder", "left_shoulder"), ("neck", "head_top")]]


class Paths:
  """Where each stage writes, under the output folder."""

  def __init__(self, output):
    self.output = output
    folders = benchmark.Folders(output)
    self.synth, self.pool, self.mean_params = folders.data, folders.pool, folders.mean_params
    self.input_batch = os.path.join(output, "input_batch.png")
    self.run = os.path.join(output, "run")
    self.eval = os.path.join(output, "eval")
    self.baseline = os.path.join(output, "eval", "baseline")
    self.saved_model = os.path.join(output, "saved_model")
    self.demo = os.path.join(output, "demo")
    self.stages = os.path.join(output, "stages")
    self.summary = os.path.join(output, "summary.json")


def load_config(paths, steps=None):
  """configs/quickstart.py pointed at the quickstart's data; `steps` overrides its steps."""
  if not os.path.isfile(_CONFIG):
    raise FileNotFoundError(f"no {_CONFIG}: hmr-quickstart runs from a checkout of hmr_tf")
  spec = importlib.util.spec_from_file_location("quickstart_config", _CONFIG)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config()
  config.data.train = paths.synth
  config.data.mocap = paths.pool
  config.model.mean_params = paths.mean_params
  if steps:
    config.train.steps = steps
  return config


def synth_stage(paths, config, body_model, num_train, num_test, num_pool):
  """The synthetic benchmark (hmr_tf.synth.benchmark) and the input batch picture."""
  benchmark.write_benchmark(paths.output, body_model, config.model.image_size, num_train,
                            num_test, num_pool)
  demo_files.write_png(paths.input_batch,
                       input_batch_sheet(paths.synth, paths.pool, config.model.image_size))
  return {"train": num_train, "test": num_test, "pool": num_pool, "seeds": benchmark.SEEDS}


def input_batch_sheet(data_dir, mocap_dir, image_size):
  """One augmented training batch, images with their keypoints, as a 4-wide grid [H, W, 3]."""
  person, _ = next(iter(pipeline.train_dataset([data_dir], [mocap_dir], _BATCH_SHEET,
                                               image_size, seed=0)))
  tiles = []
  for image, keypoints in zip(person["image"].numpy(), person["keypoints2d"].numpy()):
    tile = np.ascontiguousarray(((image + 1.0) * 127.5).astype(np.uint8))
    pixels = np.concatenate([(keypoints[:, :2] + 1.0) * image_size / 2 - 0.5,
                             keypoints[:, 2:]], axis=1)
    tiles.append(render.draw_keypoints(tile, pixels, _SKELETON, color=(255, 60, 60), radius=2,
                                       thickness=1))
  rows = [np.concatenate(tiles[i:i + 4], axis=1) for i in range(0, len(tiles), 4)]
  return np.concatenate(rows, axis=0)


def train_stage(paths, config):
  """Trains (or resumes) the run; returns its last step and the losses logged last."""
  result = trainer.train(config, paths.run)
  losses = result.history[-1][1] if result.history else {}  # none: it had finished already
  return {"steps": result.step,
          "last_losses": {k: v for k, v in losses.items() if k.startswith("loss/")}}


def evaluate_stage(paths, config):
  """The trained model and the mean-pose baseline on the test split."""
  model, _ = workdir_lib.load_model(paths.run)
  results = evaluate.evaluate_model(model, paths.synth, "test")
  eval_report.write(paths.eval, results)
  baseline_results = baselines.evaluate_mean_pose(config.model.mean_params, paths.synth,
                                                 model.smpl, model.image_size)
  eval_report.write(paths.baseline, baseline_results)
  return {"examples": results["examples"], "mpjpe": results["mpjpe"],
          "pa_mpjpe": results["pa_mpjpe"], "baseline_mpjpe": baseline_results["mpjpe"],
          "baseline_pa_mpjpe": baseline_results["pa_mpjpe"]}


def export_stage(paths):
  """The SavedModel and its fp32 TFLite file, compared with Keras on test crops."""
  model, _ = workdir_lib.load_model(paths.run)
  results = writer.write_export(model, paths.saved_model, variants=(_TFLITE,),
                                held_out=(paths.synth, "test", 32))
  return {"tflite_mb": results["file_mb"], "tflite_max_errors": results.get("max_errors")}


def demo_stage(paths, num_demo, photos):
  """hmr-demo's files for test images (their keypoints' box) and for the photos."""
  predictor = inference.Predictor(paths.saved_model)
  jobs = []  # (name, image, box, keypoints json, source)
  records = tf.data.TFRecordDataset(shards.shard_files(paths.synth, "test")).take(num_demo)
  for i, record in enumerate(records):
    example = schema.parse_person(record)
    keypoints = example["keypoints2d"].numpy()
    seen = keypoints[keypoints[:, 2] > 0, :2]
    box = np.concatenate([seen.min(axis=0), seen.max(axis=0)])
    jobs.append((f"test_{i}", tf.io.decode_jpeg(example["image/encoded"]).numpy(), box, None,
                 f"{paths.synth} test {example['image_id'].numpy().decode()}"))
  if photos and os.path.isdir(photos):
    for path, error in demo_files.image_files([photos]):
      if error is None:
        jobs.append((os.path.splitext(os.path.basename(path))[0], path, None,
                     _keypoints_file(path), path))
  written = []
  for name, image, box, keypoints, source in jobs:
    try:
      image = inference.read_image(image) if isinstance(image, str) else image
      person = predictor.predict(image, box=box, keypoints=keypoints, name=source)
      demo_files.write_results(paths.demo, name, image, person, predictor.faces, source)
      written.append(name)
    except BadInput as error:
      logging.warning("%s: demo skipped %s", TOOL, error)
  return {"images": written}


def _keypoints_file(image_path):
  """The photo's OpenPose json beside it, or None (then the photo is the person's crop)."""
  try:
    return demo_files.keypoints_for(image_path, os.path.dirname(image_path))
  except BadInput:
    return None


def run_stage(paths, number, name, settings, work):
  """Runs one stage, or reuses its record from an earlier run with the same settings.

  Returns:
    The stage's record: {"settings", "result", "seconds", "reused"}.
  """
  record_path = os.path.join(paths.stages, f"{name}.json")
  label = f"[{number}/{len(STAGES) + 1}] {name}"
  if os.path.isfile(record_path):
    with open(record_path, encoding="utf-8") as f:
      record = json.load(f)
    if record["settings"] != settings:
      changed = sorted(k for k in settings if settings[k] != record["settings"].get(k))
      raise ValueError(f"{paths.output} was made with other settings ({', '.join(changed)} "
                       f"differ); use another --output, or remove it to start over")
    report.done(TOOL, f"{label}: reused (finished earlier in {record['seconds']:.0f} s)")
    return dict(record, reused=True)
  report.done(TOOL, f"{label} ...")
  start = time.monotonic()
  record = {"settings": settings, "result": work(), "seconds": time.monotonic() - start}
  with atomic.atomic_write(record_path, "w") as f:
    json.dump(record, f, indent=2)
  report.done(TOOL, f"{label}: done in {record['seconds']:.0f} s")
  return dict(record, reused=False)


def summary(paths, records):
  """summary.json's dict and the table printed at the end."""
  metrics = records["evaluate"]["result"]
  numbers = {key: metrics[key] for key in ("mpjpe", "pa_mpjpe", "baseline_mpjpe",
                                           "baseline_pa_mpjpe")}
  ratio = metrics["pa_mpjpe"] / metrics["baseline_pa_mpjpe"]
  outputs = {
      "tensorboard_logdir": os.path.join(paths.run, workdir_lib.LOGS),
      "checkpoints": os.path.join(paths.run, workdir_lib.CHECKPOINTS),
      "metrics": os.path.join(paths.eval, eval_report.METRICS_FILE),
      "saved_model": paths.saved_model,
      "tflite": os.path.join(paths.saved_model, formats.TFLITE_DIR,
                             formats.tflite_file(_TFLITE)),
      "overlays": sorted(os.path.join(paths.demo, f"{n}_overlay.png")
                         for n in records["demo"]["result"]["images"]),
      "meshes": sorted(os.path.join(paths.demo, f"{n}.obj")
                       for n in records["demo"]["result"]["images"]),
      "input_batch": paths.input_batch,
  }
  data = dict(numbers, pa_mpjpe_over_baseline=ratio, examples=metrics["examples"],
              train_steps=records["train"]["result"]["steps"],
              seconds={name: record["seconds"] for name, record in records.items()},
              reused=[name for name, record in records.items() if record["reused"]],
              outputs=outputs)
  lines = [
      f"held-out synthetic test set, {metrics['examples']} people (mm):",
      f"  {'':<26}{'MPJPE':>8}{'PA-MPJPE':>10}",
      f"  {'HMR (configs/quickstart.py)':<26}{numbers['mpjpe']:>8.1f}{numbers['pa_mpjpe']:>10.1f}",
      f"  {'mean-pose baseline':<26}{numbers['baseline_mpjpe']:>8.1f}"
      f"{numbers['baseline_pa_mpjpe']:>10.1f}",
      f"  PA-MPJPE / baseline's: {ratio:.2f} (target 0.5 or less)",
      "seconds per stage: " + ", ".join(
          f"{name} {record['seconds']:.0f}" + (" (reused)" if record["reused"] else "")
          for name, record in records.items()),
      f"TensorBoard: tensorboard --logdir {outputs['tensorboard_logdir']}",
      f"overlays and meshes: {paths.demo}/ ({len(outputs['overlays'])} images: <name>_overlay.png, "
      f"<name>_side.png, <name>.obj, <name>.ply, <name>.json)",
      f"SavedModel: {paths.saved_model}, TFLite: {outputs['tflite']}",
      f"metrics: {outputs['metrics']}, summary: {paths.summary}",
  ]
  return data, "\n".join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  paths = Paths(_OUTPUT.value)
  config = load_config(paths, steps=_TRAIN_STEPS.value)
  config.model.body_model = _BODY_MODEL.value
  settings = {"body_model": _BODY_MODEL.value, "num_train": _NUM_TRAIN.value,
              "num_test": _NUM_TEST.value, "num_pool": _NUM_POOL.value,
              "num_demo": _NUM_DEMO.value, "photos": _PHOTOS.value,
              "config": config.to_dict()}
  work = {
      "synth": lambda: synth_stage(paths, config, _BODY_MODEL.value, _NUM_TRAIN.value,
                                   _NUM_TEST.value, _NUM_POOL.value),
      "train": lambda: train_stage(paths, config),
      "evaluate": lambda: evaluate_stage(paths, config),
      "export": lambda: export_stage(paths),
      "demo": lambda: demo_stage(paths, _NUM_DEMO.value, _PHOTOS.value),
  }
  records = {}
  try:
    for number, name in enumerate(STAGES, start=1):
      records[name] = run_stage(paths, number, name, settings, work[name])
  except (outputs.OutputError, FileNotFoundError, ValueError) as error:
    report.fail(TOOL, error)
  data, table = summary(paths, records)
  with atomic.atomic_write(paths.summary, "w") as f:
    json.dump(data, f, indent=2)
  print(table)
  report.done(TOOL, f"[{len(STAGES) + 1}/{len(STAGES) + 1}] summary: {paths.summary}")


def run():
  app.run(main)


if __name__ == "__main__":
  run()
