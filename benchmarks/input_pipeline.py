"""Input pipeline throughput on this machine: images/s at 224 px, batch 64.

  python benchmarks/input_pipeline.py [--batches 40] [--repeats 3]

Writes its own shards first: 512 person crops stored as the converters store them (322×322
JPEG, quality 95, about 30 KB each, like a real photo cropped the same way) from smooth random
images with texture and noise. Compares hmr_tf.data.pipeline with the raw ops alone (read,
decode the whole JPEG, resize to 224, batch), the ceiling for a pipeline that decodes whole
images; ours decodes only the crop window, so it can beat it. The crop_and_resize row shows
why the augmentation does not use that op.
Prints a markdown table (median of the repeats).
"""

import argparse
import os
import sys
import tempfile
import time

import cv2
import numpy as np
import tensorflow as tf

import machine  # pylint: disable=wrong-import-position  (benchmarks/machine.py, beside this script)

from hmr_tf.data import pipeline
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.datasets import person_crop

NUM_IMAGES = 512
NUM_SHARDS = 8
SIZE = 224
BATCH = 64


def _source_image(rng):
  """A 400×400 photo-like image: smooth shading, mid-scale texture, sensor noise."""
  image = cv2.resize(rng.random((12, 12, 3)), (400, 400), interpolation=cv2.INTER_CUBIC) * 200
  image += cv2.resize(rng.random((100, 100, 3)), (400, 400)) * 40
  image += rng.normal(0, 3, image.shape)
  return np.clip(image, 0, 255).astype(np.uint8)


def _person(index):
  """One stored example: a 200 px tall person in a 400 px image (rescaled to ~150 px)."""
  rng = np.random.default_rng(index)
  keypoints = np.ones((schema.NUM_KEYPOINTS, 3))
  keypoints[:, 0] = rng.uniform(150, 250, schema.NUM_KEYPOINTS)
  keypoints[:, 1] = rng.uniform(100, 300, schema.NUM_KEYPOINTS)
  keypoints[:2, 1] = 100, 300  # the ankles span the height
  keypoints3d = rng.normal(size=(14, 3)) if index % 2 else None
  pose, shape = (rng.normal(size=72), rng.normal(size=10)) if index % 2 else (None, None)
  yield person_crop.person_example(_source_image(rng), keypoints, "bench", str(index),
                                   keypoints3d=keypoints3d, pose=pose, shape=shape)


def _mocap(index):
  rng = np.random.default_rng(index)
  yield schema.mocap_example(rng.normal(size=72), rng.normal(size=10), "bench")


def write_data(root):
  """Person shards (odd examples carry 3D labels) and mocap shards under `root`."""
  person, mocap = os.path.join(root, "person"), os.path.join(root, "mocap")
  stats = shards.write_split(person, "train", range(NUM_IMAGES), _person,
                             items_per_shard=NUM_IMAGES // NUM_SHARDS)
  shards.write_info(person, "bench", {"train": stats})
  stats = shards.write_split(mocap, "train", range(4096), _mocap, items_per_shard=1024)
  shards.write_info(mocap, "bench_mocap", {"train": stats}, kind="mocap")
  return person, mocap


def _resize(image):
  return tf.image.resize(image, [SIZE, SIZE])


def _crop_and_resize(image):
  """The alternative to decode_and_crop + resize: one op that also crops, pads and flips."""
  return tf.image.crop_and_resize(tf.cast(image, tf.float32)[None], [[0.0, 0.0, 1.0, 1.0]],
                                  [0], [SIZE, SIZE])[0]


def raw_ops(person, resize):
  """Read, decode the whole JPEG, resize to SIZE, batch: no labels, no augmentation."""
  def decode(record):
    jpeg = tf.io.parse_single_example(record, {"image/encoded": schema.PERSON_FEATURES[
        "image/encoded"]})["image/encoded"]
    return resize(tf.io.decode_jpeg(jpeg, channels=3))
  files = shards.shard_files(person, "train")
  return (tf.data.Dataset.from_tensor_slices(files).repeat()
          .interleave(tf.data.TFRecordDataset, cycle_length=NUM_SHARDS,
                      num_parallel_calls=tf.data.AUTOTUNE)
          .map(decode, num_parallel_calls=tf.data.AUTOTUNE)
          .batch(BATCH, drop_remainder=True).prefetch(tf.data.AUTOTUNE))


def images_per_second(dataset, batches):
  iterator = iter(dataset)
  for _ in range(5):  # fill the buffers and let AUTOTUNE settle
    next(iterator)
  start = time.perf_counter()
  for _ in range(batches):
    next(iterator)
  return batches * BATCH / (time.perf_counter() - start)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batches", type=int, default=40)
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as root:
    person, mocap = write_data(root)
    jpeg_kb = np.mean([len(schema.parse_person(r)["image/encoded"].numpy())
                       for r in tf.data.TFRecordDataset(shards.shard_files(person, "train"))
                       .take(64)]) / 1024
    eval_epochs = pipeline.eval_dataset(person, BATCH, SIZE, split="train").repeat()
    cases = {
        "raw ops: read + decode whole JPEG + resize + batch": raw_ops(person, _resize),
        "raw ops with crop_and_resize instead of resize": raw_ops(person, _crop_and_resize),
        "eval_dataset: parse + decode window + crop, no augmentation": eval_epochs,
        "train_dataset, 2D only: parse + decode + augment + batch, + mocap":
            pipeline.train_dataset(person, mocap, BATCH, SIZE, shuffle_buffer=1000),
        "train_dataset, half 2D / half 3D, + mocap":
            pipeline.train_dataset(person, mocap, BATCH, SIZE, datasets_3d=person,
                                   shuffle_buffer=1000),
        "train_dataset, deterministic (seed=0)":
            pipeline.train_dataset(person, mocap, BATCH, SIZE, seed=0, shuffle_buffer=1000),
        "train_dataset, colour jitter 0.2":
            pipeline.train_dataset(person, mocap, BATCH, SIZE, color_strength=0.2,
                                   shuffle_buffer=1000),
    }
    side = schema.REFERENCE_SIZE
    print(f"Input pipeline, {SIZE}×{SIZE} images, batch {BATCH}, {NUM_IMAGES} stored "
          f"{side}×{side} JPEG crops (mean {jpeg_kb:.0f} KB) — {machine.describe(tf)}\n")
    print("| pipeline | images/s (median of {}) |".format(args.repeats))
    print("|---|---:|")
    for name, dataset in cases.items():
      rates = [images_per_second(dataset, args.batches) for _ in range(args.repeats)]
      print(f"| {name} | {np.median(rates):,.0f} |", flush=True)


if __name__ == "__main__":
  sys.exit(main())
