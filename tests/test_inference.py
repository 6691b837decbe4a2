"""Predictor over a SavedModel and a .tflite file; person boxes from OpenPose and COCO jsons."""

import json
import os

import cv2
import numpy as np
import pytest
import tensorflow as tf

import export_fixtures
from hmr_tf.checks import BadInput
from hmr_tf.inference import Predictor
from hmr_tf.inference import check_box
from hmr_tf.inference import person_box_from_json
from hmr_tf.inference import read_image


@pytest.fixture(scope="module")
def saved_model_predictor():
  return Predictor(export_fixtures.saved_model_dir())


@pytest.fixture(scope="module")
def tflite_predictor():
  return Predictor(export_fixtures.tflite_file("fp32"))


def _photo(path, height=90, width=120, seed=0):
  coarse = np.random.default_rng(seed).integers(0, 255, (5, 5, 3), dtype=np.uint8)
  image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
  cv2.imwrite(str(path), image[..., ::-1])
  return image


def test_predictor_is_the_exported_model(saved_model_predictor, tflite_predictor, tmp_path):
  image = _photo(tmp_path / "photo.png")
  signatures = tf.saved_model.load(export_fixtures.saved_model_dir()).signatures
  box = np.array([20, 10, 70, 80], np.float32)
  expected = signatures["serve_boxes"](images=tf.constant(image[None]), boxes=tf.constant(box[None]))
  for predictor in (saved_model_predictor, tflite_predictor):
    person = predictor.predict(str(tmp_path / "photo.png"), box=box)
    for key in ("theta", "vertices", "keypoints2d", "camera_translation", "crop_boxes"):
      got = getattr(person, "crop_box" if key == "crop_boxes" else key)
      np.testing.assert_allclose(got, expected[key][0], rtol=1e-5, atol=1e-4, err_msg=key)
    assert person.focal_length == pytest.approx(np.hypot(90, 120))
    assert person.image_size == (90, 120)
    np.testing.assert_array_equal(predictor.faces, export_fixtures.model().smpl.faces)
  assert tflite_predictor.image_size == saved_model_predictor.image_size == export_fixtures.SIZE


def test_predictor_on_crops_speaks_hmrs_conventions(tflite_predictor):
  crops = export_fixtures.crops(3, seed=4)
  expected = export_fixtures.model()(crops, training=False)
  got = tflite_predictor(crops)
  for key in ("theta", "keypoints3d", "keypoints2d"):  # keypoints2d in [-1, 1] of the crop
    np.testing.assert_allclose(got[key], expected[key].numpy(), atol=1e-5, err_msg=key)


def test_focal_length_moves_the_body_along_z_only(tflite_predictor, tmp_path):
  image = _photo(tmp_path / "photo.png")
  default = tflite_predictor.predict(image)
  longer = Predictor(export_fixtures.tflite_file("fp32"), focal_length=2000.0).predict(image)
  assert longer.focal_length == 2000.0
  np.testing.assert_allclose(longer.camera_translation[:2], default.camera_translation[:2])
  assert longer.camera_translation[2] == pytest.approx(
      default.camera_translation[2] * 2000.0 / default.focal_length, rel=1e-6)


def _openpose(path, people, key="pose_keypoints_2d"):
  with open(path, "w", encoding="utf-8") as f:
    json.dump({"version": 1.3, "people": [{key: np.ravel(p).tolist()} for p in people]}, f)
  return str(path)


@pytest.mark.parametrize("key", ["pose_keypoints_2d", "pose_keypoints"])
def test_openpose_most_confident_person(tmp_path, key):
  weak = [[10, 10, 0.5], [30, 50, 0.5], [0, 0, 0]]
  strong = [[100, 40, 0.9], [140, 120, 0.8], [500, 500, 0.1]]  # the last is below 0.2: unseen
  path = _openpose(tmp_path / "k.json", [weak, strong], key)
  np.testing.assert_allclose(person_box_from_json(path), [100, 40, 140, 120])


def test_coco_results_and_annotations(tmp_path):
  def keypoints(points):
    return np.ravel([[x, y, 2] for x, y in points] + [[0, 0, 0]] * (17 - len(points))).tolist()
  results = tmp_path / "results.json"
  results.write_text(json.dumps([
      {"image_id": 1, "keypoints": keypoints([(1, 2), (3, 4)]), "score": 0.3},
      {"image_id": 1, "keypoints": keypoints([(10, 20), (30, 60), (20, 25)]), "score": 0.9}]))
  np.testing.assert_allclose(person_box_from_json(str(results)), [10, 20, 30, 60])
  annotations = tmp_path / "person_keypoints.json"
  annotations.write_text(json.dumps({
      "images": [{"id": 7, "file_name": "a.jpg"}, {"id": 8, "file_name": "b.jpg"}],
      "annotations": [{"image_id": 7, "keypoints": keypoints([(1, 1), (9, 9), (5, 5)])},
                      {"image_id": 8, "keypoints": keypoints([(2, 3), (4, 8)])}]}))
  np.testing.assert_allclose(person_box_from_json(str(annotations), "photos/b.jpg"), [2, 3, 4, 8])
  np.testing.assert_allclose(person_box_from_json(str(annotations)), [1, 1, 9, 9])  # most points


def test_real_openpose_output(shared_data):
  """The original demo's OpenPose json (old key "pose_keypoints", two people): its rule picks
  the second person, mean confidence 0.8365 over the keypoints above 0.2, against 0.8311."""
  box = person_box_from_json(os.path.join(shared_data, "hmr_demo", "random_keypoints.json"))
  np.testing.assert_allclose(box, [540.53, 423.609, 688.918, 599.876], rtol=1e-6)


def test_bad_jsons(tmp_path):
  with pytest.raises(BadInput, match=r"k.json: no person with at least two distinct keypoints"):
    person_box_from_json(_openpose(tmp_path / "k.json", []))
  with pytest.raises(BadInput, match=r"k.json: no person with at least two"):
    person_box_from_json(_openpose(tmp_path / "k.json", [[[5, 5, 0.9], [5, 5, 0.9]]]))
  (tmp_path / "broken.json").write_text("{not json")
  with pytest.raises(BadInput, match=r"broken.json: not a readable keypoints json"):
    person_box_from_json(str(tmp_path / "broken.json"))
  (tmp_path / "other.json").write_text(json.dumps({"boxes": []}))
  with pytest.raises(BadInput, match=r"other.json: neither OpenPose .* nor COCO"):
    person_box_from_json(str(tmp_path / "other.json"))


def test_bad_images_and_boxes(tmp_path, tflite_predictor):
  (tmp_path / "notes.jpg").write_text("not an image")
  with pytest.raises(BadInput, match=r"notes.jpg: not a readable image"):
    read_image(str(tmp_path / "notes.jpg"))
  with pytest.raises(BadInput, match=r"absent.png: no such image file"):
    tflite_predictor.predict(str(tmp_path / "absent.png"))
  with pytest.raises(BadInput, match=r"the person box \[200.0, 10.0, 300.0, 50.0\] lies outside "
                                     r"the 120×90 image"):
    check_box([200, 10, 300, 50], (90, 120))
  with pytest.raises(BadInput, match=r"x0 < x1 and y0 < y1"):
    check_box([50, 10, 40, 50], (90, 120))
  with pytest.raises(BadInput, match=r"expected a SavedModel directory or a .tflite file"):
    Predictor(str(tmp_path / "notes.jpg"))
  with pytest.raises(BadInput, match=r"not a SavedModel"):
    Predictor(str(tmp_path))
