"""HMR model speed on this machine: the cost beyond the encoder, and the encoders side by side.

  python benchmarks/model_speed.py [--repeats 10]

Table 1: the paper configuration (ResNet-50 v2 at 224, T = 3, SMPL on the last Θ) at batch 8
against the bare encoder with a plain Dense(85) head, as an inference forward and as a
training forward + backward (gradients of every trainable weight), and the overhead in percent.
Table 2: images/s of each encoder with HMR's head at small image sizes (the quickstart's).
Both in graph mode (tf.function), median of --repeats calls. Prints markdown tables.
"""

import argparse
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(__file__))
import machine  # pylint: disable=wrong-import-position  (benchmarks/machine.py)
from hmr_tf.models import HMR, build_encoder  # pylint: disable=wrong-import-position


def bare_encoder(name, image_size):
  """The encoder and one Dense(85): what a plain regression network costs."""
  encoder = build_encoder(name, image_size)
  return keras.Sequential([encoder, keras.layers.Dense(85)])


def loss_of(output):
  if isinstance(output, dict):
    return tf.reduce_mean(output["keypoints2d"] ** 2) + tf.reduce_mean(output["thetas"] ** 2)
  return tf.reduce_mean(output ** 2)


def step_fns(call, variables, input_gradient=False):
  """(inference forward, training forward + backward) of `call`, both tf.functions.

  The backward takes the gradients of `variables`, and of the input where input_gradient
  (as when the input is an encoder's features that the gradient flows on into).
  """
  @tf.function
  def forward(inputs):
    return loss_of(call(inputs, training=False))

  @tf.function
  def train(inputs):
    with tf.GradientTape() as tape:
      tape.watch(inputs)
      loss = loss_of(call(inputs, training=True))
    return tape.gradient(loss, variables + ([inputs] if input_gradient else []))
  return forward, train


def median_seconds(fns, images, repeats):
  """Median seconds per call of each fn, calls interleaved so that a shared machine's load
  falls on all of them alike."""
  run = lambda fn: tf.nest.map_structure(lambda t: t.numpy(), fn(images))  # pylint: disable=unnecessary-lambda-assignment
  for fn in fns:
    run(fn)  # trace
  times = [[] for _ in fns]
  for _ in range(repeats):
    for fn, fn_times in zip(fns, times):
      start = time.perf_counter()
      run(fn)
      fn_times.append(time.perf_counter() - start)
  return [float(np.median(t)) for t in times]


def overhead_table(repeats, batch=8, image_size=224):
  images = tf.random.uniform([batch, image_size, image_size, 3], -1, 1, seed=0)
  model, plain = HMR(image_size=image_size), bare_encoder("resnet50_v2", image_size)
  bare = step_fns(plain, plain.trainable_variables)
  hmr = step_fns(model, model.trainable_variables)
  forward = median_seconds([bare[0], hmr[0]], images, repeats)
  train = median_seconds([bare[1], hmr[1]], images, repeats)
  # The head alone (regressor, SMPL, projection) on given features: the overhead measured
  # directly, where the difference of the two rows above is within a shared machine's noise.
  head = step_fns(model.head, model.regressor.trainable_variables, input_gradient=True)
  features = tf.random.normal([batch, model.encoder.output.shape[-1]], seed=0)
  head_seconds = median_seconds(head, features, 3 * repeats)
  print(f"\nResNet-50 v2 at {image_size}, batch {batch}: images/s (median of {repeats})\n")
  print("| model | forward | forward + backward |")
  print("|---|---:|---:|")
  for i, name in enumerate(["bare encoder + Dense(85)", "HMR (T = 3, SMPL, keypoints)"]):
    print(f"| {name} | {batch / forward[i]:.1f} | {batch / train[i]:.1f} |")
  print(f"| HMR overhead | {100 * (forward[1] / forward[0] - 1):+.1f}% | "
        f"{100 * (train[1] / train[0] - 1):+.1f}% |")
  print(f"| HMR's head alone: ms, % of the bare encoder | {1000 * head_seconds[0]:.1f} ms, "
        f"{100 * head_seconds[0] / forward[0]:.1f}% | {1000 * head_seconds[1]:.1f} ms, "
        f"{100 * head_seconds[1] / train[0]:.1f}% |")


def encoder_table(repeats, batch, sizes):
  print(f"\nHMR with each encoder, batch {batch}: images/s (median of {repeats})\n")
  print("| encoder | parameters | image size | forward | forward + backward |")
  print("|---|---:|---:|---:|---:|")
  for name in ("small", "resnet50_v2"):
    for size in sizes:
      model = HMR(encoder=name, image_size=size)
      forward, train = step_fns(model, model.trainable_variables)
      images = tf.random.uniform([batch, size, size, 3], -1, 1, seed=0)
      fwd, bwd = (batch / seconds for seconds in median_seconds([forward, train], images, repeats))
      print(f"| {name} | {model.encoder.count_params() / 1e6:.1f} M | {size} | {fwd:.0f} | "
            f"{bwd:.0f} |", flush=True)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=10)
  parser.add_argument("--batch", type=int, default=32, help="batch of the encoder table")
  parser.add_argument("--sizes", type=int, nargs="+", default=[64, 96])
  args = parser.parse_args()
  print(f"HMR model speed, float32 — {machine.describe(tf, keras)}")
  overhead_table(args.repeats)
  encoder_table(args.repeats, args.batch, args.sizes)


if __name__ == "__main__":
  main()
