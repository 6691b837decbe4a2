"""The shard writer and hmr-convert: resume, workers, --skip_bad, info.json, errors."""

import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

import datasets_2d
from hmr_tf.cli import convert as convert_cli
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.datasets import coco
from hmr_tf.datasets import lspet

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _records(directory, split):
  """The split's examples as protos (their serialized map order may differ between processes)."""
  return [tf.train.Example.FromString(r.numpy())
          for r in tf.data.TFRecordDataset(shards.shard_files(directory, split))]


def _lspet(root, num_images=6, images=None):
  datasets_2d.write_lsp(root, num_images, layout="jci", visible_flag=1, images=images, digits=5)
  return lspet.list_items(root, "train")


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


def test_skip_bad_counts_bad_items_by_reason(tmp_path):
  items = _lspet(tmp_path / "raw", images=[0, 1, 2, 3])
  with open(items[3].image_path, "wb") as f:
    f.write(b"not a jpeg")
  stats = shards.write_split(str(tmp_path / "out"), "train", items, lspet.make_examples,
                             items_per_shard=4, skip_bad=True)
  assert stats.examples == 3
  assert stats.skipped == {"bad input (MissingFile)": 2, "bad input (BadInput)": 1}


def test_info_json_records_counts_skips_sources_and_joint_sets(tmp_path):
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
  return subprocess.run([sys.executable, "-m", "hmr_tf.cli.convert", *map(str, args)],
                        capture_output=True, text=True, check=False, timeout=120, cwd=_ROOT)


def test_hmr_convert_stops_at_a_missing_image_naming_it(tmp_path):
  _lspet(tmp_path / "raw", num_images=3, images=[0, 2])
  failed = _hmr_convert("lspet", f"--input={tmp_path / 'raw'}", f"--output={tmp_path / 'out'}")
  assert failed.returncode == 1
  assert f"image file not found: {tmp_path / 'raw' / 'images' / 'im00002.jpg'}" in failed.stderr
  assert "--skip_bad" in failed.stderr


def test_the_summary_gives_kept_and_skipped_by_reason(tmp_path):
  items = _lspet(tmp_path / "raw", num_images=3, images=[0, 2])
  info = convert_cli.write_dataset("lspet", lspet, {"train": items}, str(tmp_path / "out"),
                                   str(tmp_path / "raw"), skip_bad=True)
  assert convert_cli.summary("lspet", "OUT", info) == (
      "lspet: kept 2 examples in OUT (train 2), skipped 1 (bad input (MissingFile): 1)")
