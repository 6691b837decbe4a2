"""SMPL forward time on this machine: batch 1, 64 and 512, V = 6890, float32, with and without XLA.

  python benchmarks/smpl_forward.py [--repeats 30]

Uses a random body model in SMPL's exact layout (6890 vertices, 207 pose correctives, a
cocoplus regressor), so the figures hold for the official files, and the free body model for
comparison. Prints a markdown table.
"""

import argparse
import os
import sys
import time

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import smpl_files  # pylint: disable=wrong-import-position

import machine  # pylint: disable=wrong-import-position  (benchmarks/machine.py, beside this script)
from hmr_tf.body import SMPL  # pylint: disable=wrong-import-position


def time_forward(smpl, batch, jit_compile, repeats):
  """Median milliseconds per call of a tf.function over the layer."""
  forward = tf.function(lambda pose, shape: smpl(pose, shape)["vertices"],
                        jit_compile=jit_compile)
  rng = np.random.default_rng(0)
  pose = tf.constant(rng.normal(scale=0.3, size=(batch, 72)), tf.float32)
  shape = tf.constant(rng.normal(size=(batch, 10)), tf.float32)
  forward(pose, shape).numpy()  # trace and compile
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    forward(pose, shape).numpy()
    times.append(time.perf_counter() - start)
  return 1000 * float(np.median(times))




def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=30)
  parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 512])
  args = parser.parse_args()
  models = {"SMPL layout (V=6890, posedirs)": smpl_files.random_body_model()}
  try:
    from hmr_tf.body import free_body_model  # pylint: disable=import-outside-toplevel
    models["free body, full (V=13380)"] = free_body_model("full")
    models["free body, lite"] = free_body_model("lite")
  except ImportError:
    pass
  print(f"SMPL forward, float32, median of {args.repeats} calls — {machine.describe(tf)}\n")
  print("| body model | batch | ms (graph) | ms (jit_compile) |")
  print("|---|---:|---:|---:|")
  for name, model in models.items():
    smpl = SMPL(model)
    for batch in args.batches:
      graph_ms = time_forward(smpl, batch, False, args.repeats)
      xla_ms = time_forward(smpl, batch, True, args.repeats)
      print(f"| {name} | {batch} | {graph_ms:.2f} | {xla_ms:.2f} |", flush=True)


if __name__ == "__main__":
  main()
