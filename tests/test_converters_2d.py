"""The 2D converters (lsp, lspet, mpii, coco) on fixtures in their real formats and real files."""

import dataclasses
import json
import os

import numpy as np
import pytest
import scipy.io

import datasets_2d
from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.data.shards import SkipExample
from hmr_tf.datasets import coco
from hmr_tf.datasets import lsp
from hmr_tf.datasets import lspet
from hmr_tf.datasets import mpii
from hmr_tf.datasets import person_crop

_COCOPLUS = joints.COCOPLUS_19


def visibility(example, name):
  return example["keypoints2d"][_COCOPLUS.index(name), 2]


# LSP and LSP-extended.

def test_lsp_splits_at_1000_and_reads_0_as_visible(tmp_path):
  datasets_2d.write_lsp(tmp_path, 1002, images=[0, 1000])
  train, test = lsp.list_items(tmp_path, "train"), lsp.list_items(tmp_path, "test")
  assert (len(train), len(test)) == (1000, 2)
  assert os.path.basename(train[0].image_path) == "im0001.jpg"
  assert os.path.basename(test[0].image_path) == "im1001.jpg"
  first, last = [datasets_2d.read_example(e) for item in (train[0], test[0])
                 for e in lsp.make_examples(item)]
  datasets_2d.check_on_person(first)
  datasets_2d.check_on_person(last)
  # The left ankle of image 0 carries LSP's occluded flag (1); the rest are visible (0).
  assert visibility(first, "left_ankle") == 0 and visibility(first, "right_ankle") == 1
  assert visibility(first, "nose") == 0  # LSP has no face points


def test_lsp_names_the_file_and_field_for_the_lspet_layout(tmp_path):
  datasets_2d.write_lsp(tmp_path, 3, layout="jci", images=[])
  with pytest.raises(checks.BadInput, match=r"joints\.mat: expected joints of shape \[3, 14, N\], "
                                            r"found \[14, 3, 3\]"):
    lsp.list_items(tmp_path, "train")


def test_lspet_converts_every_image_and_reads_1_as_visible(tmp_path):
  datasets_2d.write_lsp(tmp_path / "raw", 3, layout="jci", visible_flag=1, digits=5)
  info = datasets_2d.convert("lspet", tmp_path / "raw", tmp_path / "out")
  assert info["splits"]["train"] == {"examples": 3, "items": 3, "skipped": {}}
  examples = datasets_2d.read_examples(tmp_path / "out", "train")
  for example in examples:
    datasets_2d.check_on_person(example)
  assert [e["image_id"] for e in examples] == [b"im00001.jpg", b"im00002.jpg", b"im00003.jpg"]
  assert visibility(examples[0], "left_ankle") == 0 and visibility(examples[1], "left_ankle") == 1


def test_lsp_and_lspet_are_stored_as_released_and_the_original_size_release_rescaled(tmp_path):
  # HMR's lsp_to_tfrecords.py: the 150 px releases as they are (scale 1).
  datasets_2d.write_lsp(tmp_path, 2, layout="jci", visible_flag=1, digits=5)
  items = lspet.list_items(tmp_path, "train")
  assert {item.rule for item in items} == {"as_released"}
  example = datasets_2d.read_example(next(lspet.make_examples(items[0])))
  assert example["crop/scale"] == 1.0
  # The same people three times larger (the original-size LSP's median is 430 px) get HMR's
  # diagonal rule: 150 px over the standing person's 90 × 200 px box.
  _, keypoints = lsp.read_joints(tmp_path, "jci", visible_flag=1)
  assert lsp.scale_rule(keypoints) == "as_released"
  keypoints[..., :2] *= 3
  assert lsp.scale_rule(keypoints) == "diagonal"
  item = dataclasses.replace(items[1], rule="diagonal")
  example = datasets_2d.read_example(next(lspet.make_examples(item)))
  np.testing.assert_allclose(example["crop/scale"], 150 / np.hypot(90, 200), rtol=1e-6)


def test_a_malformed_mat_file_is_named(tmp_path):
  (tmp_path / "joints.mat").write_bytes(b"not a MATLAB file at all" * 10)
  with pytest.raises(ValueError, match=r"joints\.mat: not a readable MATLAB file"):
    lspet.list_items(tmp_path, "train")


def test_a_missing_image_is_named(tmp_path):
  datasets_2d.write_lsp(tmp_path, 2, layout="jci", visible_flag=1, images=[0], digits=5)
  items = lspet.list_items(tmp_path, "train")
  with pytest.raises(FileNotFoundError, match=r"images/im00002\.jpg"):
    list(lspet.make_examples(items[1]))


# MPII.

def test_mpii_mat_converts_single_persons_of_training_images(tmp_path):
  expected_items = datasets_2d.write_mpii_mat(tmp_path / "raw")
  datasets_2d.write_mpii_json(tmp_path / "raw")  # present too: the official .mat wins
  info = datasets_2d.convert("mpii", tmp_path / "raw", tmp_path / "out")
  assert info["splits"]["train"] == {"examples": 1, "items": expected_items,
                                     "skipped": {"no keypoints annotated": 1}}
  assert info["source_joints"] == "mpii_16"
  (example,) = datasets_2d.read_examples(tmp_path / "out", "train")
  datasets_2d.check_on_person(example)
  # Every annotated point is labelled, whatever its is_visible; MPII has no face points.
  assert np.all(example["keypoints2d"][:14, 2] == 1)
  assert np.all(example["keypoints2d"][14:, 2] == 0)


def test_mpii_mat_without_a_field_names_it(tmp_path):
  os.makedirs(tmp_path / "images")
  scipy.io.savemat(tmp_path / "mpii_human_pose_v1_u12_1.mat",
                   {"RELEASE": {"annolist": datasets_2d.struct_array([{"image": 1}]),
                                "img_train": np.array([[1]])}})
  with pytest.raises(ValueError, match=r"u12_1\.mat: RELEASE has no field 'single_person'"):
    mpii.list_items(tmp_path, "train")


def test_mpii_json_converts_each_entry(tmp_path):
  datasets_2d.write_mpii_json(tmp_path / "raw")
  info = datasets_2d.convert("mpii", tmp_path / "raw", tmp_path / "out")
  assert info["splits"]["train"]["examples"] == 2
  examples = datasets_2d.read_examples(tmp_path / "out", "train")
  for example in examples:
    datasets_2d.check_on_person(example)
  assert visibility(examples[0], "right_ankle") == 1
  assert visibility(examples[1], "right_ankle") == 0  # joints_vis 0, stored as (-1, -1)


def test_mpii_upper_neck_becomes_the_lsp_neck(tmp_path):
  datasets_2d.write_mpii_json(tmp_path)
  (item, _) = mpii.list_items(tmp_path, "train")
  example = datasets_2d.read_example(next(mpii.make_examples(item)))
  stored = example["keypoints2d"]
  source = datasets_2d.standing(joints.MPII_16)
  scale = example["crop/scale"]
  for name in ("neck", "head_top", "left_wrist"):
    np.testing.assert_allclose(
        stored[_COCOPLUS.index(name), :2] + example["crop/offset"],
        source[joints.MPII_16.index(name)] * scale, atol=1e-3)


def test_mpii_without_ankles_is_sized_by_head_top_to_hip(tmp_path):
  # HMR's mpii_to_tfrecords.py: no ankle labelled, so head top to hip is 75 px; the standing
  # person's head top is (0, -100) from the mid-hip and the hips (±15, 10): 111.0 px.
  points = datasets_2d.standing(joints.MPII_16)
  visible = np.ones(16, int)
  visible[joints.MPII_16.indices(["left_ankle", "right_ankle"])] = 0
  datasets_2d.write_mpii_json(tmp_path, entries=[
      {"image": "000000000.jpg", "joints": points.tolist(), "joints_vis": visible.tolist()}])
  (item,) = mpii.list_items(tmp_path, "train")
  example = datasets_2d.read_example(next(mpii.make_examples(item)))
  np.testing.assert_allclose(example["crop/scale"], 75 / np.hypot(15, 110), rtol=1e-6)
  datasets_2d.check_on_person(example)


def test_mpii_json_bad_entry_names_file_entry_and_field(tmp_path):
  datasets_2d.write_mpii_json(tmp_path, entries=[{"image": "000000000.jpg",
                                                  "joints": [[1.0, 2.0]] * 15,
                                                  "joints_vis": [1] * 16}])
  (item,) = mpii.list_items(tmp_path, "train")
  with pytest.raises(checks.BadInput, match=r"mpii_train\.json: entry 0: expected joints of "
                                            r"shape \[16, 2\], found \[15, 2\]"):
    list(mpii.make_examples(item))


# COCO.

@pytest.mark.parametrize("year, image_folder", [("2014", "images/train2014"),
                                                ("2017", "train2017")])
def test_coco_layouts_and_hmr_filters(tmp_path, year, image_folder):
  visibility_17 = np.full(17, 2)
  visibility_17[joints.COCO_17.index("left_knee")] = 1  # occluded but labelled
  face_and_shoulders = np.zeros(17, int)
  face_and_shoulders[:7] = 2
  five_visible = np.zeros(17, int)
  five_visible[[0, 5, 6, 11, 12]] = 2
  annotations = [
      datasets_2d.coco_annotation(1, visibility_17),
      datasets_2d.coco_annotation(2, iscrowd=1),
      datasets_2d.coco_annotation(3, visibility=0),
      datasets_2d.coco_annotation(4, five_visible),
      datasets_2d.coco_annotation(5, bbox=(60, 40, 60, 55)),
      datasets_2d.coco_annotation(6, face_and_shoulders),
      datasets_2d.coco_annotation(7, category_id=2),  # not a person: not listed
  ]
  datasets_2d.write_coco(tmp_path / "raw", annotations, year=year, image_folder=image_folder)
  info = datasets_2d.convert("coco", tmp_path / "raw", tmp_path / "out", splits=["train"])
  assert info["splits"]["train"] == {"examples": 1, "items": 6, "skipped": {
      "crowd annotation": 1, "no keypoints labelled": 1, "fewer than 6 visible keypoints": 1,
      "bounding box 60 px or smaller": 1, "only face and shoulders labelled": 1}}
  (example,) = datasets_2d.read_examples(tmp_path / "out", "train")
  datasets_2d.check_on_person(example)
  assert visibility(example, "left_knee") == 1
  assert visibility(example, "neck") == 0 and visibility(example, "head_top") == 0
  assert visibility(example, "right_ear") == 1


def test_coco_without_legs_is_sized_by_one_shoulder_hip_pair(tmp_path):
  # HMR's coco_to_tfrecords.py: no ankle, the left shoulder (30, -55) and hip (15, 10) from
  # the mid-hip: 66.7 px to 75 px. The right hip is not labelled: no right pair.
  visible = np.zeros(17, int)
  visible[joints.COCO_17.indices(["nose", "left_eye", "right_eye", "left_ear", "right_ear",
                                  "left_shoulder", "right_shoulder", "left_hip"])] = 2
  datasets_2d.write_coco(tmp_path, [datasets_2d.coco_annotation(1, visible)])
  (item,) = coco.list_items(tmp_path, "train")
  example = datasets_2d.read_example(next(coco.make_examples(item)))
  np.testing.assert_allclose(example["crop/scale"], 75 / np.hypot(15, 65), rtol=1e-6)
  datasets_2d.check_on_person(example)


def test_coco_bad_keypoints_name_file_annotation_and_field(tmp_path):
  annotation = datasets_2d.coco_annotation(42)
  annotation["keypoints"] = annotation["keypoints"][:-3]
  datasets_2d.write_coco(tmp_path, [annotation])
  (item,) = coco.list_items(tmp_path, "train")
  with pytest.raises(checks.BadInput, match=r"person_keypoints_train2017\.json: annotation id "
                                            r"42: expected keypoints of shape \[51\], "
                                            r"found \[48\]"):
    list(coco.make_examples(item))


def test_coco_unknown_image_id_is_named(tmp_path):
  datasets_2d.write_coco(tmp_path, [datasets_2d.coco_annotation(7, image_id=99)])
  with pytest.raises(ValueError, match=r"annotation id 7: field 'image_id' \(99\)"):
    coco.list_items(tmp_path, "train")


def test_coco_missing_annotation_file_lists_where_it_looked(tmp_path):
  with pytest.raises(FileNotFoundError, match=r"person_keypoints_val2014\.json, "
                     r"annotations/person_keypoints_val2017\.json"):
    coco.list_items(tmp_path, "val")


def test_a_person_with_no_visible_keypoint_is_skipped(tmp_path):
  datasets_2d.write_lsp(tmp_path, 1, layout="jci", visible_flag=1, digits=5)
  (item,) = lspet.list_items(tmp_path, "train")
  item.keypoints[:, 2] = 0
  with pytest.raises(SkipExample, match="no keypoints labelled"):
    list(lspet.make_examples(item))


# The real files in ../shared/data.

def _check_against_source(example, source_image, radius=4):
  """Around each visible keypoint, the crop looks like the source around the annotated point.

  The mean colour of a (2·radius + 1)² window of the crop is compared with that of the window
  of the same extent in the source, mapped back through crop/scale and crop/offset: image and
  keypoints must have moved together (a few pixels off and the windows differ).
  """
  scale, offset = example["crop/scale"], example["crop/offset"]
  image = datasets_2d.decode(example)
  source_radius = max(1, round(radius / scale))
  differences = []
  for x, y, v in example["keypoints2d"]:
    if v == 0:
      continue
    sx, sy = (np.array([x, y]) + offset) / scale
    crop_window = image[max(0, int(y) - radius):int(y) + radius + 1,
                        max(0, int(x) - radius):int(x) + radius + 1]
    source_window = source_image[max(0, int(sy) - source_radius):int(sy) + source_radius + 1,
                                 max(0, int(sx) - source_radius):int(sx) + source_radius + 1]
    differences.append(np.abs(crop_window.mean((0, 1)) - source_window.mean((0, 1))).max())
  assert np.median(differences) < 12, differences


def _check_real(directory, split, image_dir):
  for example in datasets_2d.read_examples(directory, split):
    datasets_2d.check_on_person(example, synthetic=False)
    source = person_crop.read_image(os.path.join(image_dir, example["image_id"].decode()))
    _check_against_source(example, source)


def test_real_lspet_missing_images_stop_or_are_counted(shared_data, tmp_path):
  raw = os.path.join(shared_data, "lspet")
  items = lspet.list_items(raw, "train")
  assert len(items) == 10000
  with pytest.raises(FileNotFoundError, match=r"im00201\.jpg"):
    datasets_2d.convert("lspet", raw, tmp_path / "out", items_per_shard=100)
  # The two shards before the missing image are finished and kept for a rerun.
  assert sorted(os.listdir(tmp_path / "out" / ".progress")) == [
      "train-00000-of-00100.tfrecord.json", "train-00001-of-00100.tfrecord.json",
      "train.settings.json"]
  info = datasets_2d.convert("lspet", raw, tmp_path / "out", items_per_shard=100, skip_bad=True)
  split = info["splits"]["train"]
  assert (split["examples"], split["items"]) == (200, 10000)
  assert datasets_2d.bad_input(split["skipped"]) == 9800
  _check_real(tmp_path / "out", "train", os.path.join(raw, "images"))


def test_real_lsp_annotations_read_with_0_as_visible(shared_data):
  raw = os.path.join(shared_data, "lsp_original_annotations")
  path, keypoints = lsp.read_joints(raw, "cji", visible_flag=0)
  assert path.endswith("joints.mat") and keypoints.shape == (2000, 14, 3)
  assert 0.9 < keypoints[..., 2].mean() < 0.95  # most LSP joints are visible
  with pytest.raises(FileNotFoundError, match=r"no image folder .* images/"):
    lsp.list_items(raw, "train")  # this copy comes without its images
  # The original-size release: rescaled by HMR's diagonal rule, unlike LSP-extended's 150 px.
  assert lsp.scale_rule(keypoints) == "diagonal"
  _, released = lsp.read_joints(os.path.join(shared_data, "lspet"), "jci", visible_flag=1)
  assert lsp.scale_rule(released) == "as_released"


def _sample(shared_data, tmp_path, dataset, annotation, image_folder):
  """The mmpose sample laid out as the converter expects (links to the real files)."""
  source = os.path.join(shared_data, "mmpose_testdata", dataset)
  root = tmp_path / "raw"
  os.makedirs(root / "annotations")
  os.symlink(os.path.join(source, f"test_{dataset}.json"), root / "annotations" / annotation)
  os.symlink(source, root / image_folder)
  return root, source


def test_real_coco_sample(shared_data, tmp_path):
  raw, source = _sample(shared_data, tmp_path, "coco", "person_keypoints_val2017.json",
                        "val2017")
  info = datasets_2d.convert("coco", raw, tmp_path / "out", splits=["val"])
  with open(os.path.join(source, "test_coco.json"), encoding="utf-8") as f:
    assert len(json.load(f)["annotations"]) == 14
  assert info["splits"]["val"] == {"examples": 12, "items": 14,
                                   "skipped": {"no keypoints labelled": 2}}
  _check_real(tmp_path / "out", "val", source)


def test_real_mpii_sample(shared_data, tmp_path):
  raw, source = _sample(shared_data, tmp_path, "mpii", "mpii_train.json", "images")
  info = datasets_2d.convert("mpii", raw, tmp_path / "out")
  assert info["splits"]["train"] == {"examples": 5, "items": 5, "skipped": {}}
  _check_real(tmp_path / "out", "train", source)
