"""hmr-demo: HMR on photos: the mesh over the photo, a side view, mesh files and parameters.

  hmr-demo --model saved_models/q --images photo.jpg --output demo_out
  hmr-demo --model saved_models/q/tflite/int8.tflite --images photos/,more.png --output out
      [--bbox x0,y0,x1,y1 | --keypoints photo_keypoints.json | --keypoints keypoints_dir/]
      [--focal_length F]

--images takes image files and folders (every image in a folder, sorted). Without --bbox or
--keypoints each image is taken as the person's crop (the original demo's rule); --bbox gives
the person's box in every image; --keypoints an OpenPose or COCO keypoints json (the original
demo's OpenPose output), or a folder holding <name>_keypoints.json or <name>.json per image
(OpenPose's --write_json names). A SavedModel or a .tflite file from hmr-export runs the model
(a .tflite file needs no TensorFlow).

Writes per image, into --output:
  <name>_overlay.png   the shaded mesh over the photo (the pinhole camera of <name>.json)
  <name>_side.png      the mesh turned 90° about the vertical axis, same camera
  <name>.obj, .ply     the mesh in the camera frame, OpenGL axes (x right, y up, z towards
                       the viewer; the camera at the origin looks down −z), metres
  <name>.json          Θ, the 3D joints and keypoints, the 2D keypoints in pixels, the camera
An image that cannot be used (unreadable, no person in its json, a box outside it) is reported
and skipped; the exit code is 1 if any image failed.
"""

import json
import os

from absl import app
from absl import flags
from absl import logging
import cv2
import numpy as np
import tqdm

from hmr_tf import atomic
from hmr_tf import inference
from hmr_tf import joints
from hmr_tf import mesh_io
from hmr_tf import render
from hmr_tf.checks import BadInput

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
SIDE_VIEW_DEGREES = 90.0
SIDE_BACKGROUND = (255, 255, 255)
# OpenCV camera axes (x right, y down, z forward) -> OpenGL's (x right, y up, z backward).
OPENCV_TO_OPENGL = np.diag([1.0, -1.0, -1.0])

_MODEL = flags.DEFINE_string("model", None, "A SavedModel directory or .tflite file "
                             "(hmr-export).")
_IMAGES = flags.DEFINE_list("images", None, "Image files and folders of images.")
_OUTPUT = flags.DEFINE_string("output", None, "Directory for the results.")
_BBOX = flags.DEFINE_list("bbox", None, "The person's box x0,y0,x1,y1 in pixels.")
_KEYPOINTS = flags.DEFINE_string(
    "keypoints", None, "OpenPose or COCO keypoints json, or a folder of <name>_keypoints.json.")
_FOCAL_LENGTH = flags.DEFINE_float("focal_length", None, "Focal length in pixels of the "
                                   "camera placed in <name>.json (default: the image diagonal).")

flags.mark_flags_as_required(["model", "images", "output"])
flags.mark_flags_as_mutual_exclusive(["bbox", "keypoints"])


def image_files(items):
  """The images named by files and folders, in order: [(path, BadInput or None)].

  A folder contributes its image files (by extension), sorted; a missing path or a folder
  without images gives one entry carrying the error, so the others still run.
  """
  files = []
  for item in items:
    if os.path.isdir(item):
      found = sorted(os.path.join(item, name) for name in os.listdir(item)
                     if name.lower().endswith(IMAGE_EXTENSIONS))
      if not found:
        files.append((item, BadInput(f"{item}: a folder without images "
                                     f"({', '.join(IMAGE_EXTENSIONS)})")))
      files.extend((path, None) for path in found)
    elif os.path.isfile(item):
      files.append((item, None))
    else:
      files.append((item, BadInput(f"{item}: no such file or folder")))
  return files


def keypoints_for(image_path, keypoints):
  """The keypoints json of an image: `keypoints` itself, or its file in a folder."""
  if keypoints is None or not os.path.isdir(keypoints):
    return keypoints
  stem = os.path.splitext(os.path.basename(image_path))[0]
  for name in (f"{stem}_keypoints.json", f"{stem}.json"):
    if os.path.isfile(os.path.join(keypoints, name)):
      return os.path.join(keypoints, name)
  raise BadInput(f"{image_path}: no {stem}_keypoints.json or {stem}.json in {keypoints}")


def pinhole(person):
  """The full-image pinhole camera of a Person (principal point at the image centre)."""
  height, width = person.image_size
  return render.Camera(fx=person.focal_length, fy=person.focal_length, cx=(width - 1) / 2,
                       cy=(height - 1) / 2)


def camera_vertices(person):
  """[V, 3] the mesh in the camera frame (OpenCV axes), metres."""
  return person.vertices + person.camera_translation


def overlay(image, person, faces):
  """[H, W, 3] uint8: the shaded mesh drawn over the photo."""
  drawn, _ = render.render(camera_vertices(person), faces, pinhole(person), background=image)
  return drawn


def side_view(person, faces):
  """[H, W, 3] uint8: the mesh turned about the vertical axis through its centre."""
  vertices = camera_vertices(person)
  center = vertices.mean(axis=0)
  angle = np.radians(SIDE_VIEW_DEGREES)
  turn = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0],
                   [-np.sin(angle), 0, np.cos(angle)]])
  background = np.full(tuple(person.image_size) + (3,), SIDE_BACKGROUND, np.uint8)
  drawn, _ = render.render((vertices - center) @ turn.T + center, faces, pinhole(person),
                           background=background)
  return drawn


def write_results(output_dir, name, image, person, faces, source):
  """The five files of one image (see the module docstring)."""
  base = os.path.join(output_dir, name)
  for suffix, picture in (("_overlay.png", overlay(image, person, faces)),
                          ("_side.png", side_view(person, faces))):
    ok, png = cv2.imencode(".png", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    if not ok:
      raise RuntimeError(f"PNG encoding failed for {base}{suffix}")
    with atomic.atomic_write(base + suffix) as f:
      f.write(png.tobytes())
  mesh = camera_vertices(person) @ OPENCV_TO_OPENGL
  mesh_io.write_obj(base + ".obj", mesh, faces)
  mesh_io.write_ply(base + ".ply", mesh, faces)
  parameters = dict(person.to_json(), image=source,
                    keypoint_names=list(joints.COCOPLUS_19.names),
                    joint_names=list(joints.SMPL_24.names))
  with atomic.atomic_write(base + ".json", "w") as f:
    json.dump(parameters, f, indent=1)


def output_names(paths):
  """A distinct output name per image: its file name's stem, numbered where stems repeat."""
  names, seen = [], {}
  for path in paths:
    stem = os.path.splitext(os.path.basename(path))[0]
    seen[stem] = seen.get(stem, 0) + 1
    names.append(stem if seen[stem] == 1 else f"{stem}_{seen[stem]}")
  return names


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  box = None
  if _BBOX.value:
    try:
      box = [float(v) for v in _BBOX.value]
    except ValueError:
      box = []
    if len(box) != 4:
      raise app.UsageError(f"--bbox takes x0,y0,x1,y1; found {','.join(_BBOX.value)}")
  predictor = inference.Predictor(_MODEL.value, focal_length=_FOCAL_LENGTH.value)
  os.makedirs(_OUTPUT.value, exist_ok=True)
  files = image_files(_IMAGES.value)
  failed = 0
  for (path, error), name in zip(tqdm.tqdm(files, desc="hmr-demo", unit="image"),
                                 output_names([p for p, _ in files])):
    try:
      if error:
        raise error
      image = inference.read_image(path)
      person = predictor.predict(image, box=box, keypoints=keypoints_for(path, _KEYPOINTS.value),
                                 name=path)
      write_results(_OUTPUT.value, name, image, person, predictor.faces, path)
    except BadInput as e:
      failed += 1
      logging.error("skipped: %s", e)
  logging.info("%d of %d images done, results in %s", len(files) - failed, len(files),
               _OUTPUT.value)
  return 1 if failed else 0


def run():
  app.run(main)


if __name__ == "__main__":
  run()
