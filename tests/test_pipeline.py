"""The tf.data pipeline on shards written here: batch layout, mixing, determinism, sharing."""

import functools
import itertools
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from hmr_tf import checks
from hmr_tf.data import augment
from hmr_tf.data import pipeline
from hmr_tf.data import schema
from hmr_tf.data import shards
from hmr_tf.datasets import person_crop

SIZE = 64
# Each dataset's images are one grey level, so a batch tells where its examples came from.
LEVELS = {"a": 200, "b": 40, "c3d": 120}


def _person(item, with_3d):
  name, index = item
  rng = np.random.default_rng(index)
  # The level, with a gentle ramp (±10) so that crops of different windows differ.
  ramp = np.linspace(-10, 10, 200)[:, None, None]
  image = np.broadcast_to(LEVELS[name] + ramp, (200, 200, 3)).astype(np.uint8)
  keypoints = np.ones((19, 3))
  keypoints[:, 0] = rng.uniform(60, 140, 19)
  keypoints[:, 1] = rng.uniform(25, 175, 19)
  labels = {}
  if with_3d:
    labels = {"keypoints3d": rng.normal(size=(14, 3)), "pose": rng.normal(size=72),
              "shape": rng.normal(size=10)}
  yield person_crop.person_example(image, keypoints, name, f"{name}{index}", **labels)


def _mocap(item):
  _, index = item
  rng = np.random.default_rng(index)
  yield schema.mocap_example(rng.normal(size=72), rng.normal(size=10), "test")


def _write(directory, name, splits, make_examples, per_shard, kind="person"):
  """Shards and info.json; the items of a split are (name, index) pairs."""
  stats = {split: shards.write_split(directory, split, [(name, i) for i in range(count)],
                                     make_examples, items_per_shard=per_shard)
           for split, count in splits.items()}
  shards.write_info(directory, name, stats, kind=kind)
  return directory


@pytest.fixture(scope="module")
def data(tmp_path_factory):
  """Two 2D datasets (24 and 8 examples), a 3D one (16) and a mocap set (64)."""
  root = tmp_path_factory.mktemp("datasets")
  person = functools.partial(_person, with_3d=False)
  person_3d = functools.partial(_person, with_3d=True)
  return {
      "a": _write(str(root / "a"), "a", {"train": 24, "test": 10}, person, 8),
      "b": _write(str(root / "b"), "b", {"train": 8}, person, 8),
      "c3d": _write(str(root / "c3d"), "c3d", {"train": 16}, person_3d, 8),
      "mocap": _write(str(root / "mocap"), "mocap", {"train": 64}, _mocap, 32, kind="mocap"),
  }


def _source(images):
  """Which dataset each image came from, by its centre pixel's grey level. [B] of names"""
  centre = (images[:, SIZE // 2, SIZE // 2, 0].numpy() + 1.0) * 127.5
  names = np.array(list(LEVELS))
  return names[np.argmin(np.abs(centre[:, None] - np.array(list(LEVELS.values()))), axis=1)]


def test_half_2d_half_3d_batches_with_3x_mocap(data):
  dataset = pipeline.train_dataset([data["a"], data["b"]], data["mocap"], 8, SIZE,
                                   datasets_3d=[data["c3d"]], shuffle_buffer=16)
  for person, mocap in dataset.take(3):
    expected_shapes = {"image": [8, SIZE, SIZE, 3], "keypoints2d": [8, 19, 3],
                       "keypoints3d": [8, 14, 3], "has_3d": [8], "pose": [8, 72],
                       "shape": [8, 10], "has_smpl": [8], "root_relative": [8],
                       "universal": [8]}
    assert {k: v.shape.as_list() for k, v in person.items()} == expected_shapes
    assert all(v.dtype == tf.float32 for v in person.values())
    assert mocap["pose"].shape == [24, 72] and mocap["shape"].shape == [24, 10]
    np.testing.assert_array_equal(person["has_3d"], [0] * 4 + [1] * 4)
    np.testing.assert_array_equal(person["has_smpl"], [0] * 4 + [1] * 4)
    assert set(_source(person["image"][:4])) <= {"a", "b"}
    assert set(_source(person["image"][4:])) == {"c3d"}
    assert not person["keypoints3d"][:4].numpy().any() and person["keypoints3d"][4:].numpy().any()
    assert np.abs(person["image"].numpy()).max() <= 1.0
    # Keypoints within 75 px of the centre, moved by up to 20 px, in a window at least
    # 224 / 1.23 = 182 px wide: within 95 / 91 of its half-width, labelled outside it too.
    assert np.abs(person["keypoints2d"].numpy()).max() <= 95 / 91


def test_all_2d_without_3d_datasets(data):
  person, mocap = next(iter(pipeline.train_dataset(data["a"], data["mocap"], 6, SIZE)))
  assert person["image"].shape == [6, SIZE, SIZE, 3] and mocap["pose"].shape == [18, 72]
  assert not person["has_3d"].numpy().any()


@pytest.mark.parametrize("weights,expected_a", [("counts", 0.75), ({"a": 1, "b": 3}, 0.25)])
def test_datasets_are_mixed_by_weight(data, weights, expected_a):
  datasets = ([data["a"], data["b"]] if weights == "counts"
              else {data[name]: w for name, w in weights.items()})
  batches = pipeline.train_dataset(datasets, data["mocap"], 32, SIZE, seed=1, shuffle_buffer=8)
  sources = np.concatenate([_source(person["image"]) for person, _ in batches.take(25)])
  # 800 draws: the fraction's standard deviation is 0.015.
  assert abs(np.mean(sources == "a") - expected_a) < 0.06
  assert set(sources) == {"a", "b"}


def _take(dataset, count):
  return [tf.nest.map_structure(lambda t: t.numpy(), b) for b in dataset.take(count)]


def test_seed_gives_identical_batches(data):
  make = functools.partial(pipeline.train_dataset, [data["a"], data["b"]], data["mocap"], 8,
                           SIZE, datasets_3d=data["c3d"], color_strength=0.2, shuffle_buffer=16)
  first, second = _take(make(seed=7), 3), _take(make(seed=7), 3)
  other = _take(make(seed=8), 3)
  tf.nest.map_structure(np.testing.assert_array_equal, first, second)
  assert not np.array_equal(first[0][0]["image"], other[0][0]["image"])
  assert not np.array_equal(first[0][1]["pose"], other[0][1]["pose"])


def test_eval_is_stored_order_unaugmented_with_a_short_last_batch(data):
  batches = _take(pipeline.eval_dataset(data["a"], 4, SIZE), 10)
  assert [len(b["image_id"]) for b in batches] == [4, 4, 2]
  ids = np.concatenate([b["image_id"] for b in batches])
  assert [i.decode() for i in ids] == [f"a{i}" for i in range(10)]
  assert set(batches[0]) == set(pipeline.PERSON_KEYS) | {"dataset", "image_id"}
  records = tf.data.TFRecordDataset(shards.shard_files(data["a"], "test"))
  for record, keypoints in zip(records, np.concatenate([b["keypoints2d"] for b in batches])):
    expected = augment.crop_example(schema.parse_person(record), SIZE)["keypoints2d"]
    np.testing.assert_array_equal(keypoints, expected)


@pytest.mark.parametrize("name,split", [("a", "train"), ("b", "train")])  # 3 shards, 1 shard
def test_input_pipelines_share_out_the_examples(data, name, split):
  ids = []
  for index in range(2):
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=index,
                                         num_replicas_in_sync=2)
    batches = _take(pipeline.eval_dataset(data[name], 8, SIZE, split, input_context=context), 20)
    assert max(len(b["image_id"]) for b in batches) == 4  # per-replica batches
    ids.append({i for b in batches for i in b["image_id"]})
  assert not ids[0] & ids[1]
  assert len(ids[0] | ids[1]) == len(list(tf.data.TFRecordDataset(
      shards.shard_files(data[name], split))))


def _contexts():
  """The InputContexts of two input pipelines (two workers), one replica each."""
  return [tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=i,
                                     num_replicas_in_sync=2) for i in range(2)]


@pytest.mark.parametrize("per_shard", [32, 64])  # 2 shards: one each; 1: every other record
def test_two_input_pipelines_read_disjoint_shares_in_their_own_orders(tmp_path, per_shard):
  mocap = _write(str(tmp_path), "mocap", {"train": 64}, _mocap, per_shard, kind="mocap")
  # Each stored pose (float32) tells which item it came from.
  index_of = {np.float32(np.random.default_rng(i).normal(size=72)).tobytes(): i
              for i in range(64)}

  def stream(context):
    # 12 batches of 8 per replica: 3 passes over a pipeline's 32 examples.
    batches = _take(pipeline.mocap_dataset(mocap, 16, seed=3, shuffle_buffer=8,
                                           input_context=context), 12)
    return [index_of[pose.tobytes()] for batch in batches for pose in batch["pose"]]

  streams = [stream(context) for context in _contexts()]
  shares = [set(s) for s in streams]
  assert len(shares[0]) == len(shares[1]) == 32 and not shares[0] & shares[1]
  assert shares[0] | shares[1] == set(range(64))
  # Each its own random stream: with one seed, both would draw their shares in the same
  # order of positions.
  positions = [[sorted(share).index(i) for i in s] for s, share in zip(streams, shares)]
  assert positions[0] != positions[1]
  assert stream(_contexts()[1]) == streams[1]  # the same seed again: the same batches


def test_two_input_pipelines_augment_from_their_own_random_streams(data, tmp_path):
  # 16 identical examples: the two pipelines read the same content, so only their random
  # streams can make their batches differ.
  same = _write(str(tmp_path), "same", {"train": 16},
                lambda item: _person(("a", 0), with_3d=False), 8)

  def first_images(context):
    person, _ = next(iter(pipeline.train_dataset(same, data["mocap"], 8, SIZE, seed=5,
                                                 shuffle_buffer=4, input_context=context)))
    assert person["image"].shape == [4, SIZE, SIZE, 3]  # per-replica batches
    return person["image"].numpy()

  images = [first_images(context) for context in _contexts()]
  assert not np.array_equal(images[0], images[1])
  np.testing.assert_array_equal(first_images(_contexts()[1]), images[1])


def test_train_under_a_distribution_strategy(data):
  strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
  dataset = strategy.distribute_datasets_from_function(
      lambda context: pipeline.train_dataset(data["a"], data["mocap"], 4, SIZE,
                                             datasets_3d=data["c3d"], input_context=context))
  person, mocap = next(iter(dataset))
  assert person["image"].shape == [4, SIZE, SIZE, 3] and mocap["pose"].shape == [12, 72]


def test_errors_name_the_directory_and_what_is_missing(data, tmp_path):
  missing = str(tmp_path / "nowhere")
  with pytest.raises(FileNotFoundError, match="nowhere"):
    pipeline.train_dataset(missing, data["mocap"], 4, SIZE)
  with pytest.raises(FileNotFoundError, match=r"no 'validation' split.*\['test', 'train'\]"):
    pipeline.eval_dataset(data["a"], 4, SIZE, split="validation")
  broken = str(tmp_path / "broken")
  shutil.copytree(data["a"], broken)
  os.remove(shards.shard_files(broken, "train")[1])
  with pytest.raises(FileNotFoundError, match="found 2 of 3 'train' shards"):
    pipeline.train_dataset(broken, data["mocap"], 4, SIZE)
  empty = _write(str(tmp_path / "empty"), "empty", {"train": 0}, _mocap, 8, kind="mocap")
  with pytest.raises(ValueError, match="'train' split has no examples"):
    pipeline.train_dataset(data["a"], empty, 4, SIZE)
  with pytest.raises(ValueError, match="holds mocap examples, expected person"):
    pipeline.train_dataset(data["mocap"], data["mocap"], 4, SIZE)
  with pytest.raises(ValueError, match="holds person examples, expected mocap"):
    pipeline.train_dataset(data["a"], data["b"], 4, SIZE)
  with pytest.raises(ValueError, match="even per-replica batch size"):
    pipeline.train_dataset(data["a"], data["mocap"], 5, SIZE, datasets_3d=data["c3d"])
  with pytest.raises(ValueError, match="weights should be >= 0"):
    pipeline.train_dataset({data["a"]: -1.0, data["b"]: 2.0}, data["mocap"], 4, SIZE)


@pytest.mark.parametrize("content, match", [
    (b"{not json", "not a JSON file"),
    (b"\xff\xfe{}", "not a JSON file"),
    (b"[]", "should hold a JSON object, found list"),
    (json.dumps({"schema_version": schema.VERSION}).encode(), "field 'splits' should map"),
    (json.dumps({"schema_version": schema.VERSION, "splits": {"train": {}}}).encode(),
     "field 'splits' should map"),
])
def test_a_damaged_info_json_is_named(data, tmp_path, content, match):
  damaged = tmp_path / "damaged"
  shutil.copytree(data["b"], damaged)
  (damaged / "info.json").write_bytes(content)
  with pytest.raises(checks.BadInput, match=f"{damaged / 'info.json'}: {match}"):
    pipeline.train_dataset(str(damaged), data["mocap"], 4, SIZE)


def test_shards_of_schema_version_1_are_refused(data, tmp_path):
  # Version 1 zeroed keypoints outside the crop and padded it black: convert again.
  old = tmp_path / "old"
  shutil.copytree(data["b"], old)
  info = json.loads((old / "info.json").read_text())
  (old / "info.json").write_text(json.dumps({**info, "schema_version": 1}))
  with pytest.raises(checks.BadInput, match=f"{old / 'info.json'}: schema_version 1 but this "
                                            "hmr_tf reads version 2; convert the dataset again"):
    pipeline.train_dataset(str(old), data["mocap"], 4, SIZE)


@pytest.mark.parametrize("size", [0, 1000])
def test_a_truncated_shard_is_named_when_the_dataset_is_made(data, tmp_path, size):
  broken = tmp_path / "broken"
  shutil.copytree(data["a"], broken)
  shard = shards.shard_files(broken, "train")[1]
  recorded = os.path.getsize(shard)
  with open(shard, "r+b") as f:
    f.truncate(size)
  with pytest.raises(checks.BadInput, match=(f"{shard}: {size} bytes, but info.json records "
                                             f"{recorded}: the shard was damaged")):
    pipeline.train_dataset(str(broken), data["mocap"], 4, SIZE)


def _bad_jpeg(item):
  """Dataset a's person examples; that of item 3 with an image that is not a JPEG."""
  for example in _person(("a", item[1]), with_3d=False):
    if item[1] == 3:
      example.features.feature["image/encoded"].bytes_list.value[0] = b"\xff\xd8 not a jpeg"
    yield example


def test_a_corrupt_record_or_image_is_named_while_reading(data, tmp_path):
  corrupt = tmp_path / "corrupt"
  shutil.copytree(data["a"], corrupt)
  shard = shards.shard_files(corrupt, "train")[1]
  with open(shard, "r+b") as f:  # zeros inside record 2 of 8, the size unchanged
    f.seek(os.path.getsize(shard) * 5 // 16)
    f.write(bytes(64))
  batches = pipeline.train_dataset(str(corrupt), data["mocap"], 4, SIZE, seed=0)
  with pytest.raises(checks.BadInput, match=(f"{shard}: record 2 cannot be read \\(corrupted "
                                             "record at \\d+\\); convert the dataset again")):
    list(itertools.islice(pipeline.naming_errors(batches, str(corrupt), data["mocap"]), 20))
  bad_jpeg = _write(str(tmp_path / "bad_jpeg"), "bad_jpeg", {"test": 8}, _bad_jpeg, 4)
  with pytest.raises(checks.BadInput, match=(f"{bad_jpeg}/test-00000-of-00002.tfrecord: record "
                                             "3 cannot be read")):
    list(pipeline.naming_errors(pipeline.eval_dataset(bad_jpeg, 4, SIZE), bad_jpeg,
                                split="test"))
  assert pipeline.check_shards(data["a"], "train") == 24  # sound shards pass
