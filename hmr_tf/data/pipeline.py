"""The tf.data input pipeline: shards -> augmented person batches and mocap batches.

train_dataset yields (person, mocap) pairs:
  person: "image" [B, S, S, 3] in [-1, 1], "keypoints2d" [B, 19, 3] in [-1, 1] of the crop
    (labelled keypoints outside it beyond ±1), "keypoints3d" [B, 14, 3], "has_3d" [B], "pose"
    [B, 72], "shape" [B, 10], "has_smpl" [B], and "root_relative", "universal" [B] (what
    keypoints3d are: data/schema.py);
  mocap: "pose" [3B, 72], "shape" [3B, 10], real SMPL parameters for the discriminator.
When 3D datasets are given, the first B/2 examples of every batch come from the 2D datasets
and the last B/2 from the 3D ones, as in the paper; otherwise all come from the 2D datasets.

Each dataset's shards are read interleaved, in a new order each pass, forever; datasets are
mixed by weight; a shuffle buffer mixes examples; each example is then parsed, decoded and
augmented (hmr_tf.data.augment) from its own seed. With a seed, two runs give the same
batches: every random step is seeded and tf.data keeps element order. Without one, tf.data
may reorder elements to keep the parallel steps busy. Parallelism is AUTOTUNE either way; it
cannot change what a seeded run produces.

Under tf.distribute, pass the tf.distribute.InputContext that
strategy.distribute_datasets_from_function gives: each input pipeline reads its own share of
the shards and yields per-replica batches of the global batch_size.

Errors name their file. What can be checked cheaply is checked when a dataset is made: each
folder's info.json, its shards all there and each of the size info.json records. A damaged
record or an image that does not decode shows only when tf.data reaches it, as an error that
names no file: iterate through naming_errors, which then finds the shard and the record.
"""

from collections.abc import Mapping
import functools
import re

import numpy as np
import tensorflow as tf

from hmr_tf import checks
from hmr_tf.data import augment
from hmr_tf.data import schema
from hmr_tf.data import shards

PERSON_KEYS = ("image", "keypoints2d", "keypoints3d", "has_3d", "pose", "shape", "has_smpl",
               "root_relative", "universal")
# The discriminator sees a fake for each of the 3 IEF iterations of every image, so the
# original draws 3 real poses per image (anchors §1.3).
MOCAP_PER_IMAGE = 3
MOCAP_SPLIT = "train"
SHUFFLE_BUFFER = 5000  # examples; HMR's 2D queue kept 5000 (min_after_dequeue)
_CYCLE_LENGTH = 8  # shards of one dataset read at the same time


def train_dataset(datasets, mocap, batch_size, image_size, datasets_3d=None, split="train",
                  seed=None, color_strength=0.0, shuffle_buffer=SHUFFLE_BUFFER,
                  input_context=None):
  """Endless (person, mocap) training batches (see the module docstring).

  Args:
    datasets: converted 2D datasets, as {directory: weight} or a list of directories weighted
      by their example counts (which is how the original mixed them).
    mocap: converted mocap datasets, in the same forms.
    batch_size: global batch size B; even when datasets_3d is given.
    image_size: side S of the images in pixels (224 for the paper).
    datasets_3d: optional 3D datasets, in the same forms; they fill half of every batch.
    split: the person datasets' split (mocap is always read from MOCAP_SPLIT).
    seed: an int for deterministic batches; None for fresh randomness and reordering.
    color_strength: colour jitter (augment.color_jitter); 0 (the paper) turns it off.
    shuffle_buffer: examples in each shuffle buffer.
    input_context: a tf.distribute.InputContext, or None for a single pipeline.

  Returns:
    A tf.data.Dataset of (person, mocap) dicts.
  """
  batch = _per_replica(batch_size, input_context)
  if datasets_3d and batch % 2:
    raise ValueError(f"half-2D, half-3D batches need an even per-replica batch size. "
                     f"Received: batch_size={batch_size} ({batch} per replica)")
  seed_2d, seed_3d, seed_mocap = _split_seed(_pipeline_seed(seed, input_context), 3)
  person_batches = functools.partial(
      _person_batches, split=split, image_size=image_size, color_strength=color_strength,
      shuffle_buffer=shuffle_buffer, input_context=input_context)
  if datasets_3d:
    halves = (person_batches(datasets, batch_size=batch // 2, seed=seed_2d),
              person_batches(datasets_3d, batch_size=batch // 2, seed=seed_3d))
    # The paper's batches: 2D examples first, then as many 3D ones.
    person = tf.data.Dataset.zip(halves).map(
        lambda a, b: {k: tf.concat([a[k], b[k]], 0) for k in PERSON_KEYS})
  else:
    person = person_batches(datasets, batch_size=batch, seed=seed_2d)
  mocap = mocap_dataset(mocap, MOCAP_PER_IMAGE * batch_size, seed_mocap, shuffle_buffer,
                        input_context)
  dataset = tf.data.Dataset.zip(person, mocap).prefetch(tf.data.AUTOTUNE)
  return _with_determinism(dataset, seed is not None)


def mocap_dataset(mocap, batch_size, seed=None, shuffle_buffer=SHUFFLE_BUFFER,
                  input_context=None):
  """Endless shuffled batches of real SMPL parameters, for the discriminator.

  Args:
    mocap: converted mocap datasets, as {directory: weight} or a list of directories weighted
      by their example counts.
    batch_size: global batch size.
    seed, shuffle_buffer, input_context: as in train_dataset.

  Returns:
    A tf.data.Dataset of {"pose" [b, 72], "shape" [b, 10]}, b the per-replica batch size.
  """
  batch = _per_replica(batch_size, input_context)
  mix_seed, shuffle_seed = _split_seed(_pipeline_seed(seed, input_context), 2)
  dataset = (
      _mixed(mocap, MOCAP_SPLIT, "mocap", mix_seed, input_context)
      # Mocap shards hold whole sequences; the buffer breaks up runs of similar frames.
      .shuffle(shuffle_buffer, seed=shuffle_seed)
      .batch(batch, drop_remainder=True)
      # Parse a whole batch at once: one op instead of one per example.
      .map(lambda records: _select(schema.parse_mocap(records), ("pose", "shape")),
           num_parallel_calls=tf.data.AUTOTUNE))
  return _with_determinism(dataset, seed is not None)


def eval_dataset(directory, batch_size, image_size, split="test", input_context=None):
  """One pass over a split in stored order, unaugmented (the CROP_SIZE window at the centre).

  Args:
    directory: a converted dataset.
    batch_size: global batch size; the last batch may be smaller.
    image_size: side S of the images in pixels.
    split: the split to read.
    input_context: as in train_dataset.

  Returns:
    A tf.data.Dataset of person dicts (PERSON_KEYS) with "dataset" and "image_id" [b] added.
  """
  _num_examples(directory, split, "person")
  files, read = _share(shards.shard_files(directory, split), input_context)
  return (
      tf.data.Dataset.from_tensor_slices(files)
      # Shards one after the other: the stored order.
      .flat_map(read)
      # Parse, decode, crop.
      .map(lambda record: augment.crop_example(schema.parse_person(record), image_size),
           num_parallel_calls=tf.data.AUTOTUNE)
      .batch(_per_replica(batch_size, input_context))
      .prefetch(tf.data.AUTOTUNE))


def naming_errors(batches, *datasets, split="train"):
  """Yields from `batches`; a damaged record or image stops it with BadInput naming its shard.

  tf.data reports a corrupt record (DataLossError) or an image that does not decode
  (InvalidArgumentError) without a file name. On either, this reads the shards of `datasets`
  (check_shards) to find the first bad record and raises BadInput naming it; where all are
  sound, the original error goes on.

  Args:
    batches: an iterable of batches: train_dataset's, eval_dataset's, a distributed dataset.
    *datasets: the dataset folders those batches read, in any form train_dataset takes
      (a folder, a list, a {folder: weight} mapping, or None).
    split: the person datasets' split; mocap datasets are checked at MOCAP_SPLIT.

  Example:
    >>> for person, mocap in naming_errors(train_dataset(d2, mocap, 64, 224), d2, mocap):
    ...   step(person, mocap)
  """
  iterator = iter(batches)
  while True:
    try:
      batch = next(iterator)
    except StopIteration:
      return
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError):
      for directory in _folders(datasets):
        kind = shards.read_info(directory).get("kind", "person")
        check_shards(directory, MOCAP_SPLIT if kind == "mocap" else split)
      raise
    yield batch


def check_shards(directory, split):
  """Reads every record of a split as the pipeline does, decoding every image.

  Returns:
    The number of records.

  Raises:
    hmr_tf.checks.BadInput: naming the first shard and record that is damaged, or whose
      image does not decode.
  """
  def decode(record):
    return tf.shape(tf.io.decode_jpeg(schema.parse_person(record)["image/encoded"], channels=3))

  mocap = shards.read_info(directory).get("kind", "person") == "mocap"
  parse = schema.parse_mocap if mocap else decode
  total = 0
  for path in shards.shard_files(directory, split):
    count = 0
    try:
      # Parallel, but in order: the error arrives at the bad record's place.
      for _ in tf.data.TFRecordDataset(path).map(parse, num_parallel_calls=tf.data.AUTOTUNE,
                                                 deterministic=True):
        count += 1
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
      # Drop TensorFlow's function and op names: "corrupted record at 2044".
      reason = re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:.*$", "", error.message)
      raise checks.BadInput(f"{path}: record {count} cannot be read ({reason}); convert the "
                            "dataset again") from error
    total += count
  return total


def _folders(datasets):
  """The folders of train_dataset-style arguments: folders, lists, mappings or None."""
  folders = []
  for entry in datasets:
    if entry:
      folders += [entry] if isinstance(entry, str) else list(entry)
  return folders


def _person_batches(datasets, split, batch_size, image_size, seed, color_strength,
                    shuffle_buffer, input_context):
  """Augmented batches of PERSON_KEYS from a weighted mix of person datasets."""
  mix_seed, shuffle_seed, augment_seed = _split_seed(seed, 3)

  def prepare(record, example_seed):
    example = augment.augment(schema.parse_person(record), example_seed, image_size,
                              color_strength=color_strength)
    return _select(example, PERSON_KEYS)

  examples = (
      _mixed(datasets, split, "person", mix_seed, input_context)
      # Mix examples across shards and datasets.
      .shuffle(shuffle_buffer, seed=shuffle_seed))
  # A [2] seed per example makes the augmentation independent of map's parallelism.
  example_seeds = tf.data.Dataset.random(seed=augment_seed).batch(2)
  return (
      tf.data.Dataset.zip(examples, example_seeds)
      # Parse, decode the crop window, augment, normalise.
      .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
      .batch(batch_size, drop_remainder=True))


def _mixed(datasets, split, kind, seed, input_context):
  """Endless serialized records of several datasets, drawn by weight."""
  weights = _weights(datasets, split, kind)
  seeds = _split_seed(seed, len(weights) + 1)
  streams = [_records(directory, split, s, input_context)
             for directory, s in zip(weights, seeds[1:])]
  if len(streams) == 1:
    return streams[0]
  return tf.data.Dataset.sample_from_datasets(streams, list(weights.values()), seed=seeds[0])


def _records(directory, split, seed, input_context):
  """Endless serialized records of one split; shards interleaved, in a new order each pass."""
  files, read = _share(shards.shard_files(directory, split), input_context)
  return (tf.data.Dataset.from_tensor_slices(files)
          .shuffle(len(files), seed=seed)
          .repeat()
          .interleave(read, cycle_length=min(len(files), _CYCLE_LENGTH),
                      num_parallel_calls=tf.data.AUTOTUNE))


def _share(files, input_context):
  """This input pipeline's shards, and the reader of one shard that keeps its records."""
  index, count = ((input_context.input_pipeline_id, input_context.num_input_pipelines)
                  if input_context else (0, 1))
  if len(files) >= count:
    return files[index::count], tf.data.TFRecordDataset

  def read(path):  # too few shards to share out: every pipeline takes every count-th record
    return tf.data.TFRecordDataset(path).shard(count, index)
  return files, read


def _weights(datasets, split, kind):
  """{directory: weight}, checking every directory; a list is weighted by example counts."""
  if isinstance(datasets, str):
    datasets = [datasets]
  if not datasets:
    raise ValueError(f"no {kind} datasets given")
  counts = {directory: _num_examples(directory, split, kind) for directory in datasets}
  weights = dict(datasets) if isinstance(datasets, Mapping) else counts
  if any(w < 0 for w in weights.values()) or not sum(weights.values()):
    raise ValueError(f"{kind} dataset weights should be >= 0 with a positive sum. "
                     f"Received: {weights}")
  return {directory: float(w) for directory, w in weights.items()}


def _num_examples(directory, split, kind):
  """Examples in a split, from info.json; errors name the folder or file and what is wrong."""
  info = shards.read_info(directory)
  if info.get("kind", "person") != kind:
    raise ValueError(f"{directory} holds {info.get('kind')} examples, expected {kind} examples")
  if split not in info["splits"]:
    raise FileNotFoundError(f"{directory}: no '{split}' split (info.json lists "
                            f"{sorted(info['splits'])})")
  count = info["splits"][split]["examples"]
  if not count:  # an endless stream of an empty split would wait forever
    raise ValueError(f"{directory}: the '{split}' split has no examples")
  return count


def _select(features, keys):
  return {k: features[k] for k in keys}


def _per_replica(batch_size, input_context):
  return input_context.get_per_replica_batch_size(batch_size) if input_context else batch_size


def _pipeline_seed(seed, input_context):
  """Each input pipeline draws its own random numbers from the one seed."""
  if seed is None or input_context is None:
    return seed
  return [seed, input_context.input_pipeline_id]


def _split_seed(seed, count):
  """`count` independent int seeds derived from `seed`; all None (fresh randomness) for None."""
  if seed is None:
    return [None] * count
  return [int(s) for s in np.random.SeedSequence(seed).generate_state(count)]


def _with_determinism(dataset, deterministic):
  options = tf.data.Options()
  options.deterministic = deterministic
  return dataset.with_options(options)
