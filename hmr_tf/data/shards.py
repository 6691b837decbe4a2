"""Resumable, parallel, atomic TFRecord shards, and the info.json that describes them.

A split's items (whatever a converter lists: image annotations, mocap files, synthetic
seeds) are cut into contiguous runs of `items_per_shard`; shard i holds the examples made
from run i. Each shard is written to a temporary file and renamed only when complete, after
its counts are saved under .progress/, so a rerun skips the finished shards and a crash loses
at most the shards in flight. Shards are independent, so `num_workers` processes each take
whole shards.
"""

import collections
import concurrent.futures
import dataclasses
import datetime
import json
import multiprocessing
import os
import sys

import tensorflow as tf
import tqdm

from hmr_tf import atomic
from hmr_tf.data import schema


class SkipExample(Exception):
  """Raised by a converter to drop an item for a reason that is not an error (a filter)."""


@dataclasses.dataclass
class SplitStats:
  """What a split's conversion kept and skipped, by reason."""

  examples: int = 0
  items: int = 0
  skipped: collections.Counter = dataclasses.field(default_factory=collections.Counter)

  def add(self, other):
    self.examples += other.examples
    self.items += other.items
    self.skipped.update(other.skipped)

  def to_json(self):
    return {"examples": self.examples, "items": self.items, "skipped": dict(self.skipped)}

  @classmethod
  def from_json(cls, data):
    return cls(data["examples"], data["items"], collections.Counter(data["skipped"]))

  def summary(self):
    skipped = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.skipped.items()))
    return (f"kept {self.examples} examples from {self.items} items, skipped "
            f"{sum(self.skipped.values())}" + (f" ({skipped})" if skipped else ""))


def shard_name(split, index, count):
  return f"{split}-{index:05d}-of-{count:05d}.tfrecord"


def shard_files(directory, split):
  """The finished shard files of a split, in order; FileNotFoundError naming what is missing."""
  names = sorted(n for n in os.listdir(directory) if n.startswith(split + "-")
                 and n.endswith(".tfrecord")) if os.path.isdir(directory) else []
  if not names:
    raise FileNotFoundError(f"no '{split}' shards ({split}-*-of-*.tfrecord) in {directory}")
  expected = int(names[0].rsplit("-of-", 1)[1].split(".")[0])
  if len(names) != expected:
    raise FileNotFoundError(f"{directory}: found {len(names)} of {expected} '{split}' shards; "
                            "the conversion did not finish (rerun it to complete)")
  return [os.path.join(directory, n) for n in names]


@dataclasses.dataclass(frozen=True)
class _ShardJob:
  output_dir: str
  split: str
  index: int
  count: int
  items: list
  make_examples: object  # item -> iterable of tf.train.Example (picklable for workers)
  skip_bad: bool


def _progress_path(job):
  return os.path.join(job.output_dir, ".progress", shard_name(job.split, job.index, job.count)
                      + ".json")


_BAD_INPUT_MESSAGES = 5  # per shard: with --skip_bad, say what was wrong for the first few


def _shard_path(job):
  return os.path.join(job.output_dir, shard_name(job.split, job.index, job.count))


def _finished_stats(job):
  """The SplitStats saved by an earlier run that finished this shard, else None."""
  if not (os.path.exists(_shard_path(job)) and os.path.exists(_progress_path(job))):
    return None
  with open(_progress_path(job), encoding="utf-8") as f:
    return SplitStats.from_json(json.load(f))


def _write_shard(job):
  """Writes one shard atomically; returns its SplitStats."""
  path = _shard_path(job)
  stats = SplitStats(items=len(job.items))
  tmp_path = path + ".tmp"
  try:
    with tf.io.TFRecordWriter(tmp_path) as writer:
      for item in job.items:
        try:
          examples = list(job.make_examples(item))
        except SkipExample as skip:
          stats.skipped[str(skip)] += 1
          continue
        except (ValueError, KeyError, IndexError, OSError) as error:
          if not job.skip_bad:
            raise
          bad = sum(n for reason, n in stats.skipped.items() if reason.startswith("bad input"))
          if bad < _BAD_INPUT_MESSAGES:
            print(f"skipped (--skip_bad): {error}", file=sys.stderr)
          stats.skipped[f"bad input ({type(error).__name__})"] += 1
          continue
        for example in examples:
          # Deterministic: the same example gives the same bytes in every process.
          writer.write(example.SerializeToString(deterministic=True))
        stats.examples += len(examples)
    with atomic.atomic_write(_progress_path(job), "w") as f:
      json.dump(stats.to_json(), f)
    os.replace(tmp_path, path)
  finally:
    if os.path.exists(tmp_path):
      os.remove(tmp_path)
  return stats


def write_split(output_dir, split, items, make_examples, items_per_shard=1000, num_workers=1,
                skip_bad=False, label=None) -> SplitStats:
  """Converts `items` into `<split>-NNNNN-of-MMMMM.tfrecord` shards under `output_dir`.

  Args:
    output_dir: destination directory (created).
    split: split name, e.g. "train".
    items: a sequence; make_examples(item) yields tf.train.Examples (zero or more) or raises
      SkipExample(reason) for a filtered item, or ValueError/KeyError/IndexError/OSError for
      bad input (re-raised, or counted and reported with skip_bad).
    make_examples: the per-item function; must be picklable (module level) when num_workers > 1.
    items_per_shard: items per shard (not examples: the shard layout must be known up front).
    num_workers: processes; each writes whole shards.
    skip_bad: count bad items instead of stopping.
    label: text for the progress bar (default: the split).

  Returns:
    The split's SplitStats, including shards finished by an earlier run.
  """
  os.makedirs(os.path.join(output_dir, ".progress"), exist_ok=True)
  count = max(1, -(-len(items) // items_per_shard))
  jobs = [_ShardJob(output_dir, split, i, count,
                    list(items[i * items_per_shard:(i + 1) * items_per_shard]),
                    make_examples, skip_bad) for i in range(count)]
  total = SplitStats()
  finished = {job.index: _finished_stats(job) for job in jobs}
  for stats in finished.values():
    if stats is not None:
      total.add(stats)
  jobs = [job for job in jobs if finished[job.index] is None]
  with tqdm.tqdm(total=len(items), initial=total.items, desc=label or split, unit="item",
                 file=sys.stderr) as progress:
    if num_workers <= 1 or len(jobs) <= 1:  # no process pool for what one process can do
      for job in jobs:
        total.add(_write_shard(job))
        progress.update(len(job.items))
    else:
      # Fresh interpreters: forking a process that has started TensorFlow's threads can hang.
      context = multiprocessing.get_context("spawn")
      with concurrent.futures.ProcessPoolExecutor(num_workers, mp_context=context) as pool:
        futures = {pool.submit(_write_shard, job): job for job in jobs}
        try:
          for future in concurrent.futures.as_completed(futures):
            total.add(future.result())
            progress.update(len(futures[future].items))
        except BaseException:
          # Stop at the first error, as one process does, instead of converting the rest first.
          pool.shutdown(cancel_futures=True)
          raise
  print(f"{label or split}: {total.summary()}", file=sys.stderr)
  return total


def write_info(output_dir, dataset, splits, joint_set="cocoplus_19", sources=(), kind="person",
               extra=None):
  """Writes info.json: schema version, counts and skips per split, sources, joint set."""
  info = {
      "dataset": dataset,
      "kind": kind,
      "schema_version": schema.VERSION,
      "joint_set": joint_set,
      "splits": {split: stats.to_json() for split, stats in splits.items()},
      "sources": [os.fspath(s) for s in sources],
      "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
      **(extra or {}),
  }
  with atomic.atomic_write(os.path.join(output_dir, "info.json"), "w") as f:
    json.dump(info, f, indent=2)
  return info


def read_info(directory):
  """info.json of a converted dataset; FileNotFoundError/ValueError naming the problem."""
  path = os.path.join(directory, "info.json")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"no info.json in {directory}: not a converted dataset "
                            "(run hmr-convert or hmr-synth first)")
  with open(path, encoding="utf-8") as f:
    info = json.load(f)
  if info.get("schema_version") != schema.VERSION:
    raise ValueError(f"{path}: schema_version {info.get('schema_version')} but this hmr_tf "
                     f"reads version {schema.VERSION}; convert the dataset again")
  return info
