"""Synthetic world speed on this machine: images/s in one process at 64², 128² and 224².

  python benchmarks/synth.py [--images 400] [--body_model free]

Times what a shard writer does per image: draw the sample, pose its chunk of bodies (one SMPL
call per body model and chunk), render, encode the JPEG, build and serialise the example. The
first chunk (numba's and TensorFlow's warm-up) is left out. Prints a markdown table.
"""

import argparse
import time

import numpy as np
import tensorflow as tf

import machine  # pylint: disable=wrong-import-position  (benchmarks/machine.py, beside this script)
from hmr_tf.synth import SynthWorld
from hmr_tf.synth import generate

SIZES = (64, 128, 224)


def measure(body_model, size, images):
  """(images/s, mean JPEG kilobytes) over `images` samples after a warm-up chunk."""
  world = SynthWorld([body_model], image_size=size)
  for index in range(generate.CHUNK_SIZE):
    world(index)
  start = time.perf_counter()
  sizes = [len(world(index)[0].SerializeToString())
           for index in range(generate.CHUNK_SIZE, generate.CHUNK_SIZE + images)]
  return images / (time.perf_counter() - start), np.mean(sizes) / 1000




def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--images", type=int, default=400)
  parser.add_argument("--body_model", default="free")
  args = parser.parse_args()
  print(f"Synthetic world, body model {args.body_model}, one process, {args.images} images per "
        f"size — {machine.describe(tf)}\n")
  print("| image | images/s | ms/image | example size (kB) |")
  print("|---|---:|---:|---:|")
  for size in SIZES:
    rate, kilobytes = measure(args.body_model, size, args.images)
    print(f"| {size}×{size} | {rate:.0f} | {1000 / rate:.1f} | {kilobytes:.1f} |", flush=True)


if __name__ == "__main__":
  main()
