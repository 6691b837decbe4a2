"""The shard writer and hmr-convert: resume, workers, one writer per folder, kill -9, settings,
durability, --skip_bad, write errors, info.json, the report."""

import collections
import errno
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time

from absl import flags
import pytest
import tensorflow as tf

import datasets_2d
import shard_items
from hmr_tf import atomic
from hmr_tf import checks
from hmr_tf.cli import convert as convert_cli
from hmr_tf.cli import report
from hmr_tf.data import outputs
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.datasets import coco
from hmr_tf.datasets import lspet

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A writer in its own process: OUT ITEMS_PER_SHARD WORKERS DELAY... (one delay per item)
_WRITER = """
import sys
import shard_items
from hmr_tf.data import shards
out, per_shard, workers, delays = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
shards.write_split(out, "train", shard_items.items([float(d) for d in delays]),
                   shard_items.slow_example, items_per_shard=per_shard, num_workers=workers)
"""


def _records(directory, split):
  """The split's examples as protos (their serialized map order may differ between processes)."""
  return [tf.train.Example.FromString(r.numpy())
          for r in tf.data.TFRecordDataset(shards.shard_files(directory, split))]


def _lspet(root, num_images=6, images=None):
  datasets_2d.write_lsp(root, num_images, layout="jci", visible_flag=1, images=images, digits=5)
  return lspet.list_items(root, "train")


def _write(out, delays, per_shard=2, make_examples=shard_items.slow_example, **kwargs):
  return shards.write_split(str(out), "train", shard_items.items(delays), make_examples,
                            items_per_shard=per_shard, **kwargs)


def _start_writer(out, delays, per_shard=2, workers=1):
  env = {**os.environ, "PYTHONPATH": os.pathsep.join([_ROOT, os.path.join(_ROOT, "tests")]),
         "TF_CPP_MIN_LOG_LEVEL": "2"}
  return subprocess.Popen([sys.executable, "-c", _WRITER, str(out), str(per_shard),
                           str(workers), *map(str, delays)], env=env, cwd=_ROOT,
                          stderr=subprocess.DEVNULL)


def _wait_for(condition, timeout, what):
  end = time.monotonic() + timeout
  while not condition():
    if time.monotonic() > end:
      raise AssertionError(f"{what} after {timeout} s")
    time.sleep(0.05)


def _text(path):
  try:
    with open(path, encoding="utf-8") as f:
      return f.read().strip()
  except OSError:
    return None


def _children(pid):
  """{child pid: its command line} from /proc."""
  children = {}
  for entry in os.listdir("/proc"):
    status = _text(f"/proc/{entry}/status") if entry.isdigit() else None
    if status and re.search(rf"^PPid:\s+{pid}$", status, re.M):
      children[int(entry)] = (_text(f"/proc/{entry}/cmdline") or "").replace("\0", " ")
  return children


def _alive(pid):
  stat = _text(f"/proc/{pid}/stat")
  return stat is not None and stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead


def test_a_rerun_after_a_crash_converts_only_the_unfinished_shards(tmp_path):
  items = _lspet(tmp_path / "raw")
  out = str(tmp_path / "out")
  calls = []

  def crashing(item):
    calls.append(item.image_path)
    if len(calls) == 5:
      raise RuntimeError("simulated crash")
    return lspet.make_examples(item)

  with pytest.raises(RuntimeError):
    shards.write_split(out, "train", items, crashing, items_per_shard=2)
  assert sorted(f for f in os.listdir(out) if not f.startswith(".")) == [
      "train-00000-of-00003.tfrecord", "train-00001-of-00003.tfrecord"]  # no half shard
  calls.clear()
  stats = shards.write_split(out, "train", items, crashing, items_per_shard=2)
  assert calls == [items[4].image_path, items[5].image_path]
  assert (stats.examples, stats.items) == (6, 6)
  fresh = str(tmp_path / "fresh")
  shards.write_split(fresh, "train", items, lspet.make_examples, items_per_shard=2)
  assert _records(out, "train") == _records(fresh, "train")


def test_two_workers_write_the_same_examples_as_one(tmp_path):
  items = _lspet(tmp_path / "raw")
  for workers in (1, 2):
    shards.write_split(str(tmp_path / f"w{workers}"), "train", items, lspet.make_examples,
                       items_per_shard=2, num_workers=workers)
  assert len(_records(tmp_path / "w1", "train")) == 6
  assert _records(tmp_path / "w1", "train") == _records(tmp_path / "w2", "train")


def test_a_second_writer_is_refused_while_the_first_runs(tmp_path):
  out = tmp_path / "out"
  first = _start_writer(out, [0.5] * 4)
  try:
    _wait_for(lambda: _text(out / outputs.LOCK_NAME) == str(first.pid), 120, "no lock taken")
    with pytest.raises(outputs.OutputError, match=re.escape(
        f"{out} is being written by another run (pid {first.pid})")):
      _write(out, [0] * 4)
    assert first.wait(120) == 0
  finally:
    first.kill()
  files = shards.shard_files(out, "train")
  assert [shard_items.indices(f) for f in files] == [[0, 1], [2, 3]]  # whole, uncorrupted
  assert not [n for n in os.listdir(out) if n.endswith(".tmp")]


def test_kill_9_leaves_no_worker_alive_and_a_rerun_completes_to_the_same_bytes(tmp_path):
  out = tmp_path / "out"
  # Shard 0 is quick; shards 1 and 2 take 10 s: the kill finds both workers in mid-shard.
  parent = _start_writer(out, [0, 0] + [5] * 4, per_shard=2, workers=2)
  try:
    _wait_for(lambda: os.path.exists(out / ".progress" / "train-00000-of-00003.tfrecord.json"),
              120, "shard 0 not written")
    workers = [pid for pid, command in _children(parent.pid).items() if "spawn_main" in command]
    assert len(workers) == 2
  finally:
    parent.send_signal(signal.SIGKILL)
    parent.wait()
  # Left alone, each would write for 9 s more.
  _wait_for(lambda: not any(map(_alive, workers)), 5, "workers still alive")
  assert sorted(n for n in os.listdir(out) if n.endswith(".tfrecord")) == [
      "train-00000-of-00003.tfrecord"]
  stats = _write(out, [0] * 6)
  assert (stats.examples, stats.items) == (6, 6)
  assert not [n for n in os.listdir(out) if n.endswith(".tmp")]  # the killed run's temp files
  _write(tmp_path / "fresh", [0] * 6)
  for path, fresh in zip(shards.shard_files(out, "train"),
                         shards.shard_files(tmp_path / "fresh", "train")):
    with open(path, "rb") as a, open(fresh, "rb") as b:
      assert a.read() == b.read()


def test_a_rerun_with_other_settings_is_refused_saying_what_differs(tmp_path):
  out = tmp_path / "out"
  _write(out, [0] * 4, settings={"seed": 0})
  before = sorted(os.listdir(out))
  for kwargs, differs in [({"per_shard": 3, "settings": {"seed": 0}}, "items_per_shard 2 there, 3 now"),
                          ({"settings": {"seed": 1}}, "seed 0 there, 1 now"),
                          ({"settings": {}}, "seed 0 there, None now")]:
    with pytest.raises(outputs.OutputError, match=re.escape(
        f"{out} holds 'train' shards made with other settings: {differs}. To start over, "
        f"delete {out}, or write to another folder")):
      _write(out, [0] * 4, **kwargs)
  with pytest.raises(outputs.OutputError, match="items 4 there, 3 now"):
    _write(out, [0] * 3, settings={"seed": 0})
  assert sorted(os.listdir(out)) == before
  assert _write(out, [0] * 4, settings={"seed": 0}).examples == 4  # the same: nothing redone


def test_hmr_convert_refuses_another_dataset_in_the_folder(tmp_path):
  items = _lspet(tmp_path / "raw", num_images=2)
  out = str(tmp_path / "out")
  convert_cli.write_dataset("lspet", lspet, {"train": items}, out, str(tmp_path / "raw"))
  datasets_2d.write_coco(tmp_path / "coco", [datasets_2d.coco_annotation(1)], split="train")
  with pytest.raises(outputs.OutputError, match=r"holds dataset 'lspet', not 'coco'"):
    convert_cli.write_dataset("coco", coco, {"train": coco.list_items(tmp_path / "coco", "train")},
                              out, str(tmp_path / "coco"))
  assert sorted(shards.read_info(out)["splits"]) == ["train"]


def test_a_damaged_or_empty_progress_entry_or_a_resized_shard_is_redone(tmp_path):
  out = tmp_path / "out"
  _write(out, [0] * 8)
  progress = out / ".progress"
  (progress / "train-00000-of-00004.tfrecord.json").write_text("")
  (progress / "train-00001-of-00004.tfrecord.json").write_text('{"stats": {"exam')
  with open(out / "train-00002-of-00004.tfrecord", "r+b") as f:
    f.truncate(10)
  calls = []

  def counting(item):
    calls.append(item[0])
    return shard_items.slow_example(item)

  stats = _write(out, [0] * 8, make_examples=counting)
  assert sorted(calls) == [0, 1, 2, 3, 4, 5]
  assert (stats.examples, stats.items) == (8, 8)
  files = shards.shard_files(out, "train")
  assert [shard_items.indices(f) for f in files] == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_a_shard_is_durable_before_its_progress_entry_says_done(tmp_path, monkeypatch):
  events = []
  fsync, replace = os.fsync, os.replace
  monkeypatch.setattr(os, "fsync", lambda fd: events.append(
      ("fsync", os.readlink(f"/proc/self/fd/{fd}"))) or fsync(fd))
  monkeypatch.setattr(os, "replace", lambda a, b: events.append(
      ("rename", os.path.realpath(b))) or replace(a, b))
  out = os.path.realpath(tmp_path)
  _write(out, [0], per_shard=1)
  shard = os.path.join(out, "train-00000-of-00001.tfrecord")
  rename = events.index(("rename", shard))
  assert events[rename - 1][0] == "fsync"  # the data, through the temp file
  assert re.fullmatch(r"\.train-00000-of-00001\.tfrecord\..*\.tmp",
                      os.path.basename(events[rename - 1][1]))
  assert events[rename + 1] == ("fsync", out)  # the folder, for the rename
  assert events.index(("rename", f"{out}/.progress/train-00000-of-00001.tfrecord.json")) > rename


def test_temp_files_are_new_and_a_planted_symlink_is_never_followed(tmp_path):
  victim = tmp_path / "victim"
  victim.write_bytes(b"keep me")
  out = tmp_path / "out"
  out.mkdir()
  os.symlink(victim, out / "train-00000-of-00001.tfrecord.tmp")  # the old fixed temp name
  _write(out, [0, 0])
  assert shard_items.indices(shards.shard_files(out, "train")[0]) == [0, 1]
  planted = tmp_path / "planted"
  planted.mkdir()
  os.symlink(victim, planted / outputs.LOCK_NAME)
  with pytest.raises(outputs.OutputError, match=f"cannot write to {planted}"):
    _write(planted, [0, 0])
  assert victim.read_bytes() == b"keep me"


def _bad_or_filtered(item):
  index, _ = item
  if index in (1, 5):
    raise checks.BadInput(f"/raw/im{index}.jpg: not a readable image")
  if index == 2:
    raise shards.SkipExample("no keypoints labelled")
  return shard_items.slow_example(item)


def test_skip_bad_counts_bad_input_and_keeps_what_was_wrong(tmp_path):
  with pytest.raises(checks.BadInput, match=r"/raw/im1\.jpg: not a readable image"):
    _write(tmp_path / "stop", [0] * 6, per_shard=3, make_examples=_bad_or_filtered)
  stats = _write(tmp_path / "out", [0] * 6, per_shard=3, make_examples=_bad_or_filtered,
                 skip_bad=True)
  assert stats.examples == 3
  assert stats.skipped == {shards.BAD_INPUT: 2, "no keypoints labelled": 1}
  assert stats.bad_input == ["/raw/im1.jpg: not a readable image",
                             "/raw/im5.jpg: not a readable image"]
  shards.write_info(tmp_path / "out", "test", {"train": stats})
  info = shards.read_info(tmp_path / "out")
  assert shards.SplitStats.from_json(info["splits"]["train"]) == stats


@pytest.mark.parametrize("error", [KeyError("joints"), IndexError("list index out of range"),
                                   FileNotFoundError("not BadInput")])
def test_skip_bad_lets_any_other_error_stop_the_run(tmp_path, error):
  def buggy(item):
    if item[0] == 1:
      raise error
    return shard_items.slow_example(item)

  with pytest.raises(type(error)):
    _write(tmp_path, [0] * 4, make_examples=buggy, skip_bad=True)
  assert not [n for n in os.listdir(tmp_path) if n.startswith("train-00000")]


def test_info_json_records_counts_skips_settings_sizes_sources_and_joint_sets(tmp_path):
  raw = tmp_path / "raw"
  datasets_2d.write_coco(raw, [datasets_2d.coco_annotation(1),
                               datasets_2d.coco_annotation(2, visibility=0)], split="train")
  datasets_2d.write_coco(raw, [datasets_2d.coco_annotation(1)], split="val")
  datasets_2d.convert("coco", raw, tmp_path / "out", ["train"])
  datasets_2d.convert("coco", raw, tmp_path / "out", ["val"])  # later: train's entry stays
  info = shards.read_info(tmp_path / "out")
  with open(tmp_path / "out" / "info.json", encoding="utf-8") as f:
    assert json.load(f) == info
  assert info["dataset"] == "coco" and info["kind"] == "person"
  assert info["schema_version"] == schema.VERSION
  assert (info["joint_set"], info["source_joints"]) == ("cocoplus_19", "coco_17")
  assert info["sources"] == [str(raw)]
  assert info["splits"] == {
      "train": {"examples": 1, "items": 2, "skipped": {"no keypoints labelled": 1}},
      "val": {"examples": 1, "items": 1, "skipped": {}}}
  assert info["settings"]["val"]["dataset"] == "coco"
  assert (info["settings"]["train"]["input"], info["settings"]["train"]["items"]) == (str(raw), 2)
  assert info["shard_bytes"] == {
      name: os.path.getsize(tmp_path / "out" / name)
      for name in ("train-00000-of-00001.tfrecord", "val-00000-of-00001.tfrecord")}


def test_unknown_dataset_and_split_errors_list_the_known_ones(tmp_path):
  with pytest.raises(ValueError, match=r"unknown dataset 'lsp_ext'; known: ") as error:
    convert_cli.converter("lsp_ext")
  assert {"coco", "lsp", "lspet", "mpii"} <= set(str(error.value).split(": ")[1].split(", "))
  with pytest.raises(ValueError, match=r"unknown dataset 'person_crop'"):
    convert_cli.converter("person_crop")  # a helper module, not a converter
  with pytest.raises(ValueError, match=r"unknown split\(s\) val; this dataset has train"):
    convert_cli.list_splits(lspet, str(tmp_path), ["val"])
  with pytest.raises(FileNotFoundError, match=r"input folder not found: .*nowhere"):
    convert_cli.list_splits(lspet, str(tmp_path / "nowhere"))
  datasets_2d.write_coco(tmp_path, [datasets_2d.coco_annotation(1)], split="val")
  with pytest.raises(FileNotFoundError, match=r"split 'train': no COCO .* \(--splits"):
    convert_cli.list_splits(coco, str(tmp_path))


def _hmr_convert(*args):
  """hmr-convert in this process: None, or what it exits with (its one-line error)."""
  argv = flags.FLAGS(["hmr-convert", *map(str, args)])
  try:
    convert_cli.main(argv)
  except SystemExit as exit_:
    return exit_.code
  finally:
    flags.FLAGS.unparse_flags()
  return None


def _missing_image(item, make_examples=lspet.make_examples):
  if item.image_path.endswith("im00002.jpg"):
    raise checks.BadInput(f"image file not found: {item.image_path}")
  return make_examples(item)


def test_hmr_convert_stops_at_bad_input_naming_it_or_skips_and_reports_it(tmp_path, monkeypatch,
                                                                           caplog):
  _lspet(tmp_path / "raw", num_images=3)
  monkeypatch.setattr(lspet, "make_examples", _missing_image)
  args = ("lspet", f"--input={tmp_path / 'raw'}", f"--output={tmp_path / 'out'}")
  message = f"image file not found: {tmp_path / 'raw' / 'images' / 'im00002.jpg'}"
  assert _hmr_convert(*args) == (f"hmr-convert lspet: {message}; --skip_bad counts and skips "
                                 "bad items instead, and a rerun resumes after the finished "
                                 "shards")
  caplog.set_level(logging.INFO, logger="absl")
  assert _hmr_convert(*args, "--skip_bad") is None
  assert [r.getMessage() for r in caplog.records if r.name == "absl"] == [
      f"hmr-convert lspet: skipped in 'train' (--skip_bad): {message}",
      f"hmr-convert lspet: kept 2 examples in {tmp_path / 'out'} (train 2), skipped 1 "
      "(bad input: 1)"]


@pytest.mark.parametrize("failure", ["full", "read_only"])
def test_hmr_convert_names_a_full_or_read_only_output_folder_in_one_line(tmp_path, monkeypatch,
                                                                         failure):
  _lspet(tmp_path / "raw", num_images=3)
  out = tmp_path / "out"
  if failure == "full":
    if not os.path.exists("/dev/full"):
      pytest.skip("no /dev/full here to fill")
    real = tf.io.TFRecordWriter
    monkeypatch.setattr(tf.io, "TFRecordWriter", lambda path: real("/dev/full"))
    reason = "/dev/full; No space left on device"
  else:  # as the kernel answers a write in a read-only mount
    def read_only(directory, name):
      raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(directory, name))
    monkeypatch.setattr(atomic, "new_temp_file", read_only)
    reason = "Read-only file system"
  error = _hmr_convert("lspet", f"--input={tmp_path / 'raw'}", f"--output={out}")
  assert error.startswith(f"hmr-convert lspet: cannot write to {out}: {reason}")
  assert "\n" not in error
  names = os.listdir(out) + os.listdir(out / ".progress")
  assert not [n for n in names if n.endswith((".tfrecord", ".tfrecord.json", ".tmp"))
              or n == "info.json"]  # nothing half-written, nothing said to be done


def test_hmr_convert_names_a_folder_it_may_not_write(tmp_path):
  if os.geteuid() == 0:
    pytest.skip("root writes into a chmod 0o555 folder; the read-only case is simulated in "
                "test_hmr_convert_names_a_full_or_read_only_output_folder_in_one_line")
  _lspet(tmp_path / "raw", num_images=3)
  out = tmp_path / "out"
  out.mkdir(mode=0o555)
  error = _hmr_convert("lspet", f"--input={tmp_path / 'raw'}", f"--output={out}")
  assert error.startswith(f"hmr-convert lspet: cannot write to {out}: Permission denied")
  assert not os.listdir(out)


def test_the_report_gives_kept_and_skipped_by_reason():
  stats = {"train": shards.SplitStats(2, 3, collections.Counter({shards.BAD_INPUT: 1})),
           "val": shards.SplitStats(4, 6, collections.Counter({"crowd annotation": 2}))}
  assert report.splits("OUT", stats) == (
      "kept 6 examples in OUT (train 2, val 4), skipped 3 (bad input: 1; crowd annotation: 2)")
