"""Inference speed of HMR on this machine: Keras, the SavedModel and every TFLite variant.

  python benchmarks/inference.py [--image_size 224] [--repeats 20] [--workdir runs/q]

Exports the paper's model (resnet50_v2 at 224, T = 3, random weights, a body model in SMPL's
exact layout: 6890 vertices, pose correctives, cocoplus regressor) with hmr_tf.export.writer,
as hmr-export does, then times serve_crops (crops in, everything out):
  batch-1 latency: the median of --repeats calls on one crop;
  batch-32 throughput: 32 crops per call (one call per crop for the batch-1 int8 file);
the models take turns call by call, so that other load on the machine slows them alike.
Keras runs in a tf.function; TFLite in ai-edge-litert with XNNPACK on every core. Also prints
the file sizes and the targets: full-integer int8 at ≤ 0.6 × the fp32 latency, the fp16 file at
≤ 0.5 × the fp32 size. int8 is calibrated on random smooth crops: speed does not depend on it.
With --workdir, the trained model of that run is exported instead and report.json's accuracy
(MPJPE, PA-MPJPE of Keras and each variant on the run's data.eval) is printed too.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import cv2
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import smpl_files  # pylint: disable=wrong-import-position

import machine  # pylint: disable=wrong-import-position  (benchmarks/machine.py)
from hmr_tf.export import formats  # pylint: disable=wrong-import-position
from hmr_tf.export import tflite  # pylint: disable=wrong-import-position
from hmr_tf.export import writer  # pylint: disable=wrong-import-position
from hmr_tf.inference import Predictor  # pylint: disable=wrong-import-position
from hmr_tf.models import HMR  # pylint: disable=wrong-import-position

THROUGHPUT_BATCH = 32


def smooth_crops(count, size, seed=0):
  """[count, size, size, 3] image-like crops in [-1, 1]."""
  coarse = np.random.default_rng(seed).uniform(0, 255, (count, 8, 8, 3)).astype(np.uint8)
  images = np.stack([cv2.resize(c, (size, size), interpolation=cv2.INTER_CUBIC) for c in coarse])
  return images.astype(np.float32) * np.float32(2 / 255) - np.float32(1)


def timed(calls, crops, repeats):
  """{name: (batch-1 median ms, batch-32 images per second)} of each call(crops).

  The calls take turns, one call each per round, so that whatever else the machine runs
  slows them all alike.
  """
  for call in calls.values():
    call(crops[:1])
    call(crops)  # warm both shapes
  single = {name: [] for name in calls}
  batches = {name: [] for name in calls}
  for i in range(repeats):
    for name, call in calls.items():
      start = time.perf_counter()
      call(crops[i % len(crops):][:1])
      single[name].append(time.perf_counter() - start)
    if i % 5 == 0:
      for name, call in calls.items():
        start = time.perf_counter()
        call(crops)
        batches[name].append(time.perf_counter() - start)
  return {name: (1000 * float(np.median(single[name])), len(crops) / float(np.median(batches[name])))
          for name in calls}


def size_mb(path):
  """A file's size, or a SavedModel directory's without its tflite/ folder, in MiB."""
  if os.path.isfile(path):
    return os.path.getsize(path) / 2**20
  return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path)
             if formats.TFLITE_DIR not in os.path.relpath(root, path).split(os.sep)
             for name in names) / 2**20


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--image_size", type=int, default=224)
  parser.add_argument("--repeats", type=int, default=40)
  parser.add_argument("--workdir", default=None, help="export this trained run instead")
  parser.add_argument("--output", default=None, help="keep the export here (default: a "
                      "temporary directory)")
  parser.add_argument("--reuse", action="store_true", help="time the export already in "
                      "--output instead of writing it")
  args = parser.parse_args()

  held_out = None
  if args.workdir:
    from hmr_tf.training import workdir  # pylint: disable=import-outside-toplevel
    from hmr_tf.training import inputs  # pylint: disable=import-outside-toplevel
    model, config = workdir.load_model(args.workdir)
    train = list(inputs.parse_datasets(config.data.train, "data.train"))[0]
    calibration = writer.load_crops(train, "train", model.image_size, 100)
    if config.data.eval:
      held_out = (config.data.eval, config.data.eval_split, 64)
  else:
    model = HMR(encoder="resnet50_v2", image_size=args.image_size,
                body_model=smpl_files.random_body_model())
    calibration = smooth_crops(32, model.image_size, seed=1)
  size = model.image_size
  crops = smooth_crops(THROUGHPUT_BATCH, size)
  output = args.output or os.path.join(tempfile.mkdtemp(prefix="hmr_benchmark_"), "export")
  start = time.perf_counter()
  if args.reuse:
    with open(os.path.join(output, formats.TFLITE_DIR, writer.REPORT_FILE), encoding="utf-8") as f:
      results = json.load(f)
  else:
    results = writer.write_export(model, output, tflite.VARIANTS, calibration, held_out)
  export_seconds = time.perf_counter() - start

  keras_call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
  calls = {"Keras (tf.function)": lambda x: keras_call(x)["theta"].numpy(),
           "SavedModel": Predictor(output)}
  sizes = {"Keras (tf.function)": None, "SavedModel": size_mb(output)}
  for variant in tflite.VARIANTS:
    path = os.path.join(output, formats.TFLITE_DIR, formats.tflite_file(variant))
    calls[f"TFLite {variant}"] = Predictor(path)  # XNNPACK on every core
    sizes[f"TFLite {variant}"] = size_mb(path)
  speeds = timed(calls, crops, args.repeats)
  rows = [(name, sizes[name], speeds[name]) for name in calls]

  print(f"HMR inference, {model.encoder.name} at {size} px, T = {model.num_iterations}, "
        f"{model.smpl.v_template.shape[1]} vertices — {machine.describe(tf)}; export "
        f"{export_seconds:.0f} s\n")
  print("| model | file MB | batch-1 latency ms | batch-32 images/s |")
  print("|---|---:|---:|---:|")
  for name, mb, (latency, throughput) in rows:
    print(f"| {name} | {'' if mb is None else f'{mb:.1f}'} | {latency:.1f} | {throughput:.1f} |")
  by_name = {name: (mb, latency) for name, mb, (latency, _) in rows}
  fp32_mb, fp32_ms = by_name["TFLite fp32"]
  print(f"\nint8 latency / fp32: {by_name['TFLite int8'][1] / fp32_ms:.2f} (target ≤ 0.6); "
        f"fp16 size / fp32: {by_name['TFLite fp16'][0] / fp32_mb:.3f} (target ≤ 0.5)")
  if results.get("accuracy"):
    print("\n| model | MPJPE mm | PA-MPJPE mm | PA-MPJPE change mm |\n|---|---:|---:|---:|")
    for name, numbers in results["accuracy"].items():
      change = numbers.get("pa_mpjpe_change")
      print(f"| {name} | {numbers['mpjpe']:.1f} | {numbers['pa_mpjpe']:.1f} | "
            f"{'' if change is None else f'{change:+.2f}'} |")
  print("\nlargest differences from Keras on held-out crops:\n" +
        json.dumps(results["max_errors"], indent=1))


if __name__ == "__main__":
  main()
