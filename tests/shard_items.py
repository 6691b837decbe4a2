"""Items for the shard writer's tests: (index, seconds) -> one small example, after a pause.

Module level, so that spawned workers can unpickle the function.
"""

import time

import tensorflow as tf


def example(index):
  """A small example that says which item made it."""
  return tf.train.Example(features=tf.train.Features(feature={
      "index": tf.train.Feature(int64_list=tf.train.Int64List(value=[index])),
      "payload": tf.train.Feature(bytes_list=tf.train.BytesList(value=[bytes(100 + index)])),
  }))


def slow_example(item):
  """[example(index)], made in `seconds`: long enough to catch a run at work."""
  index, seconds = item
  time.sleep(seconds)
  return [example(index)]


def items(delays):
  """Items with these delays, one per item."""
  return [(i, d) for i, d in enumerate(delays)]


def indices(path):
  """The item indices stored in a shard file, in order."""
  return [tf.train.Example.FromString(r.numpy()).features.feature["index"].int64_list.value[0]
          for r in tf.data.TFRecordDataset(path)]
