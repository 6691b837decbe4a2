"""hmr-demo on the original demo's photos, with and without OpenPose keypoints, and bad input."""

import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

import export_fixtures

OUTPUTS = ("_overlay.png", "_side.png", ".obj", ".ply", ".json")


# hmr-demo over a .tflite file, in a process where `import tensorflow` fails: it needs none.
_WITHOUT_TENSORFLOW = ("import sys; sys.modules['tensorflow'] = None; "
                       "from hmr_tf.cli import demo; demo.run()")


def _demo(*args):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  return subprocess.run([sys.executable, "-c", _WITHOUT_TENSORFLOW,
                         f"--model={export_fixtures.tflite_file('fp32')}", *args],
                        capture_output=True, text=True, env=env, check=False, timeout=600)


def _check_outputs(out, name, photo):
  for suffix in OUTPUTS:
    assert os.path.getsize(out / f"{name}{suffix}") > 0, f"{name}{suffix}"
  overlay = cv2.imread(str(out / f"{name}_overlay.png"))
  assert overlay.shape == photo.shape
  assert (np.abs(overlay.astype(int) - photo).sum(axis=-1) > 30).mean() > 0.002  # a mesh drawn
  side = cv2.imread(str(out / f"{name}_side.png"))
  assert (side != 255).any()
  with open(out / f"{name}.json", encoding="utf-8") as f:
    params = json.load(f)
  assert len(params["theta"]) == 85 and len(params["keypoints2d"]) == 19
  vertices = np.array([[float(v) for v in line.split()[1:]] for line in
                       open(out / f"{name}.obj", encoding="utf-8") if line.startswith("v ")])
  # The .obj is the camera-frame mesh in OpenGL axes: y and z flipped.
  expected = (np.array(params["vertices"]) + params["camera_translation"]) * [1, -1, -1]
  np.testing.assert_allclose(vertices, expected, atol=1e-5)
  return params


def test_demo_on_the_original_photos(shared_data, tmp_path):
  """A folder of the original demo's photos (its json is not an image), a text file posing as
  an image, an empty folder and a missing path: the photos all run, the rest is reported."""
  photos = os.path.join(shared_data, "hmr_demo")
  (tmp_path / "empty").mkdir()
  (tmp_path / "notes.jpg").write_text("not an image")
  out = tmp_path / "out"
  done = _demo(f"--images={photos},{tmp_path / 'notes.jpg'},{tmp_path / 'empty'},"
               f"{tmp_path / 'absent.png'}", f"--output={out}")
  assert done.returncode == 1, done.stderr[-2000:]
  for message in ("notes.jpg: not a readable image", "empty: a folder without images",
                  "absent.png: no such file or folder", "9 of 12 images done"):
    assert message in done.stderr
  names = sorted(os.path.splitext(n)[0] for n in os.listdir(photos) if not n.endswith(".json"))
  assert len(names) == 9
  for name in names:
    photo = cv2.imread(os.path.join(photos, next(n for n in os.listdir(photos)
                                                  if os.path.splitext(n)[0] == name)))
    params = _check_outputs(out, name, photo)
    assert params["box"] is None  # the whole photo is the crop
    height, width = photo.shape[:2]
    side = max(height, width)
    np.testing.assert_allclose(params["crop_box"], [(width - 1 - side) / 2, (height - 1 - side) / 2,
                                                    (width - 1 + side) / 2, (height - 1 + side) / 2],
                               atol=1e-3)


def test_demo_with_openpose_keypoints(shared_data, tmp_path):
  """A keypoints folder: random.jpg finds random_keypoints.json (OpenPose's name), coco1.png a
  json without people, which fails alone."""
  photos = os.path.join(shared_data, "hmr_demo")
  keypoints = tmp_path / "keypoints"
  keypoints.mkdir()
  shutil.copy(os.path.join(photos, "random_keypoints.json"), keypoints)
  (keypoints / "coco1_keypoints.json").write_text(json.dumps({"version": 1.2, "people": []}))
  out = tmp_path / "out"
  done = _demo(f"--images={os.path.join(photos, 'random.jpg')},{os.path.join(photos, 'coco1.png')}",
               f"--keypoints={keypoints}", f"--output={out}")
  assert done.returncode == 1, done.stderr[-2000:]
  assert "coco1_keypoints.json: no person" in done.stderr
  params = _check_outputs(out, "random", cv2.imread(os.path.join(photos, "random.jpg")))
  assert not (out / "coco1.json").exists()
  np.testing.assert_allclose(params["box"], [540.53, 423.609, 688.918, 599.876], rtol=1e-5)
  center = (np.array(params["box"][:2]) + params["box"][2:]) / 2
  np.testing.assert_allclose((np.array(params["crop_box"][:2]) + params["crop_box"][2:]) / 2,
                             center, atol=1e-3)


def test_demo_box_outside_the_image(shared_data, tmp_path):
  done = _demo(f"--images={os.path.join(shared_data, 'hmr_demo', 'im1954.jpg')}",
               "--bbox=5000,5000,5100,5200", f"--output={tmp_path}")
  assert done.returncode == 1
  assert "im1954.jpg: the person box [5000.0, 5000.0, 5100.0, 5200.0] lies outside" in done.stderr


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d"])
def test_demo_rejects_a_malformed_bbox(tmp_path, bbox):
  done = _demo(f"--images={tmp_path}", f"--bbox={bbox}", f"--output={tmp_path}")
  assert done.returncode != 0 and "--bbox takes x0,y0,x1,y1" in done.stderr
