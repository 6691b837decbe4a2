"""Resumable, parallel, durable TFRecord shards, and the info.json that describes them.

A split's items (whatever a converter lists: image annotations, mocap files, synthetic
seeds) are cut into contiguous runs of `items_per_shard`; shard i holds the examples made
from run i. One run writes a folder at a time (hmr_tf.data.outputs.locked). Each shard is
written to a new temporary file, fsynced, renamed into place and the folder fsynced; only then
does its entry under .progress/ say it is done. A rerun skips the done shards (an entry that
is damaged, or whose shard has another size, is not done) and a crash loses at most the
shards in flight. The settings that fix a split's output are recorded when it starts, and a
rerun with other settings is refused. Shards are independent, so `num_workers` processes each
take whole shards; they die with the process that started them.
"""

import collections
import concurrent.futures
import ctypes
import dataclasses
import datetime
import json
import multiprocessing
import os
import re
import signal
import sys

import tensorflow as tf
import tqdm

import hmr_tf
from hmr_tf import atomic
from hmr_tf import checks
from hmr_tf.data import outputs
from hmr_tf.data import schema

BAD_INPUT = "bad input"  # the `skipped` reason of the items --skip_bad counts
_BAD_INPUT_MESSAGES = 10  # per split, the first messages of bad input are kept to report
_PROGRESS = ".progress"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class SkipExample(Exception):
  """Raised by a converter to drop an item for a reason that is not an error (a filter)."""


@dataclasses.dataclass
class SplitStats:
  """What a split's conversion kept and skipped, by reason, with the first bad-input messages."""

  examples: int = 0
  items: int = 0
  skipped: collections.Counter = dataclasses.field(default_factory=collections.Counter)
  bad_input: list = dataclasses.field(default_factory=list)  # "file: what was wrong"

  def add(self, other):
    self.examples += other.examples
    self.items += other.items
    self.skipped.update(other.skipped)
    self.bad_input = (self.bad_input + other.bad_input)[:_BAD_INPUT_MESSAGES]

  def to_json(self):
    data = {"examples": self.examples, "items": self.items, "skipped": dict(self.skipped)}
    return {**data, "bad_input": self.bad_input} if self.bad_input else data

  @classmethod
  def from_json(cls, data):
    return cls(data["examples"], data["items"], collections.Counter(data["skipped"]),
               list(data.get("bad_input", [])))


def shard_name(split, index, count):
  return f"{split}-{index:05d}-of-{count:05d}.tfrecord"


def _shard_pattern(split):
  """Matches the names of the split's shards, of any count."""
  return re.compile(re.escape(split) + r"-\d{5}-of-\d{5}\.tfrecord")


def _shard_names(directory, split):
  """Names of the split's shard files in `directory`, sorted."""
  return sorted(n for n in os.listdir(directory) if _shard_pattern(split).fullmatch(n))


def shard_files(directory, split):
  """The finished shard files of a split, in order.

  Where info.json records the shards' sizes, each file is checked against it, so that a
  truncated, emptied or replaced shard is named here rather than met half-way through
  training.

  Raises:
    FileNotFoundError: naming what is missing.
    hmr_tf.checks.BadInput: naming the shard whose size differs, or a damaged info.json.
  """
  names = _shard_names(directory, split) if os.path.isdir(directory) else []
  if not names:
    raise FileNotFoundError(f"no '{split}' shards ({split}-*-of-*.tfrecord) in {directory}")
  expected = int(names[0].rsplit("-of-", 1)[1].split(".")[0])
  if len(names) != expected:
    raise FileNotFoundError(f"{directory}: found {len(names)} of {expected} '{split}' shards; "
                            "the conversion did not finish (rerun it to complete)")
  paths = [os.path.join(directory, n) for n in names]
  if os.path.isfile(os.path.join(directory, "info.json")):
    sizes = read_info(directory).get("shard_bytes", {})
    for name, path in zip(names, paths):
      if name in sizes and os.path.getsize(path) != sizes[name]:
        raise checks.BadInput(f"{path}: {os.path.getsize(path)} bytes, but info.json records "
                              f"{sizes[name]}: the shard was damaged or replaced; convert the "
                              "dataset again")
  return paths


@dataclasses.dataclass(frozen=True)
class _ShardJob:
  output_dir: str
  split: str
  index: int
  count: int
  items: list
  make_examples: object  # item -> iterable of tf.train.Example (picklable for workers)
  skip_bad: bool

  @property
  def name(self):
    return shard_name(self.split, self.index, self.count)

  @property
  def path(self):
    return os.path.join(self.output_dir, self.name)

  @property
  def progress_path(self):
    return os.path.join(self.output_dir, _PROGRESS, self.name + ".json")


def _finished_stats(job):
  """The SplitStats an earlier run saved for this shard, or None where it is not done: no
  entry, a damaged one, or a shard file missing or of another size than the entry's."""
  try:
    with open(job.progress_path, encoding="utf-8") as f:
      record = json.load(f)
    stats, size = SplitStats.from_json(record["stats"]), record["bytes"]
  except (OSError, ValueError, KeyError, TypeError, AttributeError):  # ours, damaged: redo it
    return None
  if not os.path.isfile(job.path) or os.path.getsize(job.path) != size:
    return None
  return stats


def _examples(job, item, stats):
  """make_examples(item) as a list; [] for an item skipped, counted in stats."""
  try:
    return list(job.make_examples(item))
  except SkipExample as skip:
    stats.skipped[str(skip)] += 1
  except checks.BadInput as error:  # only bad input: any other error is a bug, and stops
    if not job.skip_bad:
      raise
    stats.skipped[BAD_INPUT] += 1
    if len(stats.bad_input) < _BAD_INPUT_MESSAGES:
      stats.bad_input.append(str(error))
  return []


def _write_shard(job):
  """Writes one shard durably, then its .progress entry; returns its SplitStats."""
  stats = SplitStats(items=len(job.items))
  with outputs.writing(job.output_dir):
    fd, temp_path = atomic.new_temp_file(job.output_dir, job.name)
  try:
    with outputs.writing(job.output_dir):
      # TensorFlow reopens the new file by its unique name; commit checks it is still ours.
      writer = tf.io.TFRecordWriter(temp_path)
    try:
      for item in job.items:
        _stop_if_orphaned()
        examples = _examples(job, item, stats)
        with outputs.writing(job.output_dir):
          for example in examples:
            # Deterministic: the same example gives the same bytes in every process.
            writer.write(example.SerializeToString(deterministic=True))
        stats.examples += len(examples)
    finally:
      with outputs.writing(job.output_dir):
        writer.close()
    _stop_if_orphaned()
    with outputs.writing(job.output_dir):
      atomic.commit(fd, temp_path, job.path)
      record = {"stats": stats.to_json(), "bytes": os.path.getsize(job.path)}
      with atomic.atomic_write(job.progress_path, "w") as f:
        json.dump(record, f)
  finally:
    os.close(fd)
    if os.path.exists(temp_path):
      os.remove(temp_path)
  return stats


def write_split(output_dir, split, items, make_examples, items_per_shard=1000, num_workers=1,
                skip_bad=False, label=None, settings=None) -> SplitStats:
  """Converts `items` into `<split>-NNNNN-of-MMMMM.tfrecord` shards under `output_dir`.

  Args:
    output_dir: destination folder (created), locked for the call.
    split: split name, e.g. "train".
    items: a sequence; make_examples(item) yields tf.train.Examples (zero or more), or raises
      SkipExample(reason) for a filtered item, or hmr_tf.checks.BadInput for bad input
      (re-raised, or with skip_bad counted as BAD_INPUT and its message kept). Any other
      exception stops the run.
    make_examples: the per-item function; must be picklable (module level) when num_workers > 1.
    items_per_shard: items per shard (not examples: the shard layout must be known up front).
    num_workers: processes; each writes whole shards.
    skip_bad: count bad items instead of stopping.
    label: text for the progress bar (default: the split).
    settings: a JSON-able dict of what else fixes the output (the converter, its input, a
      seed, an image size…). With the item count, items_per_shard and the schema version it
      is recorded at the start; a rerun with other settings is refused.

  Returns:
    The split's SplitStats, including shards finished by an earlier run.

  Raises:
    hmr_tf.data.outputs.OutputError: the folder is busy, holds this split made with other
      settings, or cannot be written (full, read-only).
  """
  count = max(1, -(-len(items) // items_per_shard))
  jobs = [_ShardJob(output_dir, split, i, count,
                    list(items[i * items_per_shard:(i + 1) * items_per_shard]),
                    make_examples, skip_bad) for i in range(count)]
  with outputs.locked(output_dir):
    with outputs.writing(output_dir):
      os.makedirs(os.path.join(output_dir, _PROGRESS), exist_ok=True)
      for folder in (output_dir, os.path.join(output_dir, _PROGRESS)):
        atomic.remove_temp_files(folder)  # of a killed run: we hold the lock
      outputs.check_settings(
          output_dir, _settings_path(output_dir, split),
          {**(settings or {}), "split": split, "items": len(items),
           "items_per_shard": items_per_shard, "schema_version": schema.VERSION,
           "hmr_tf": hmr_tf.__version__},
          work=f"'{split}' shards" if _has_work(output_dir, split) else "")
    total = SplitStats()
    finished = {job.index: _finished_stats(job) for job in jobs}
    for stats in finished.values():
      if stats is not None:
        total.add(stats)
    jobs = [job for job in jobs if finished[job.index] is None]
    with tqdm.tqdm(total=len(items), initial=total.items, desc=label or split, unit="item",
                   file=sys.stderr) as progress:
      for stats, job in _run(jobs, num_workers):
        total.add(stats)
        progress.update(len(job.items))
  return total


def _run(jobs, num_workers):
  """Yields (SplitStats, job) as the jobs finish; the first error stops the rest."""
  if num_workers <= 1 or len(jobs) <= 1:  # no process pool for what one process can do
    for job in jobs:
      yield _write_shard(job), job
    return
  # Fresh interpreters: forking a process that has started TensorFlow's threads can hang.
  context = multiprocessing.get_context("spawn")
  with concurrent.futures.ProcessPoolExecutor(num_workers, mp_context=context,
                                              initializer=_die_with_parent,
                                              initargs=(os.getpid(),)) as pool:
    futures = {pool.submit(_write_shard, job): job for job in jobs}
    try:
      for future in concurrent.futures.as_completed(futures):
        yield future.result(), futures[future]
    except BaseException:
      # Stop at the first error, as one process does, instead of converting the rest first.
      pool.shutdown(cancel_futures=True)
      raise


_parent_pid = None  # in a worker: the pid of the process that started it


def _die_with_parent(parent_pid):
  """Worker initializer: the kernel kills this worker when its parent dies (Linux), so that a
  killed run leaves no worker writing shards. Elsewhere, _stop_if_orphaned does it."""
  global _parent_pid
  _parent_pid = parent_pid
  if sys.platform.startswith("linux"):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
      raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
  _stop_if_orphaned()  # the parent may have died before prctl


def _stop_if_orphaned():
  if _parent_pid is not None and os.getppid() != _parent_pid:
    os._exit(1)  # pylint: disable=protected-access  (nobody is left to report to)


def _settings_path(directory, split):
  return os.path.join(directory, _PROGRESS, f"{split}.settings.json")


def _has_work(directory, split):
  """Whether the folder holds shards of the split (of any count) or their progress entries."""
  return bool(_shard_names(directory, split) or any(
      _shard_pattern(split).match(n) for n in os.listdir(os.path.join(directory, _PROGRESS))))


def write_info(directory, dataset, splits, joint_set="cocoplus_19", sources=(), kind="person",
               extra=None):
  """Writes info.json: schema version, counts and skips per split, the settings each split
  was made with, the size of every shard, sources, joint set. Returns it as a dict."""
  with outputs.locked(directory), outputs.writing(directory):
    info = {
        "dataset": dataset,
        "kind": kind,
        "schema_version": schema.VERSION,
        "joint_set": joint_set,
        "splits": {split: stats.to_json() for split, stats in splits.items()},
        "settings": {split: _read_json(_settings_path(directory, split)) for split in splits},
        "shard_bytes": {name: os.path.getsize(os.path.join(directory, name))
                        for split in splits for name in _shard_names(directory, split)},
        "sources": [os.fspath(s) for s in sources],
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    with atomic.atomic_write(os.path.join(directory, "info.json"), "w") as f:
      json.dump(info, f, indent=2)
  return info


def _read_json(path):
  """A JSON file of ours, or None where it is absent or damaged."""
  try:
    with open(path, encoding="utf-8") as f:
      return json.load(f)
  except (OSError, ValueError):
    return None


def read_info(directory):
  """info.json of a converted dataset, its fields checked.

  Raises:
    FileNotFoundError: there is none.
    hmr_tf.checks.BadInput: naming the file and the field that is not what readers need.
  """
  path = os.path.join(directory, "info.json")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"no info.json in {directory}: not a converted dataset "
                            "(run hmr-convert or hmr-synth first)")
  try:
    with open(path, encoding="utf-8") as f:
      info = json.load(f)
  except ValueError as error:  # not UTF-8, not JSON
    raise checks.BadInput(f"{path}: not a JSON file ({error})") from error
  if not isinstance(info, dict):
    raise checks.BadInput(f"{path}: should hold a JSON object, found {type(info).__name__}")
  if info.get("schema_version") != schema.VERSION:
    raise checks.BadInput(f"{path}: schema_version {info.get('schema_version')} but this "
                          f"hmr_tf reads version {schema.VERSION}; convert the dataset again")
  splits = info.get("splits")
  if not isinstance(splits, dict) or not all(
      isinstance(s, dict) and isinstance(s.get("examples"), int) for s in splits.values()):
    raise checks.BadInput(f"{path}: field 'splits' should map each split to its counts "
                          "({\"examples\": N, …}); convert the dataset again")
  return info
