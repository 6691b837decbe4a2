"""hmr-demo's files: the images that files and folders name, their keypoint files, and what is
written per image (the overlay, the side view, the mesh as .obj and .ply, the parameters).

  <name>_overlay.png   the shaded mesh over the photo (the pinhole camera of <name>.json)
  <name>_side.png      the mesh turned 90° about the vertical axis, same camera
  <name>.obj, .ply     the mesh in the camera frame, OpenGL axes (x right, y up, z towards
                       the viewer; the camera at the origin looks down −z), metres
  <name>.json          Θ, the 3D joints and keypoints, the 2D keypoints in pixels, the camera
"""

import json
import os

import cv2
import numpy as np

from hmr_tf import atomic
from hmr_tf import joints
from hmr_tf import mesh_io
from hmr_tf import render
from hmr_tf.checks import BadInput

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
SIDE_VIEW_DEGREES = 90.0
SIDE_BACKGROUND = (255, 255, 255)
# OpenCV camera axes (x right, y down, z forward) -> OpenGL's (x right, y up, z backward).
OPENCV_TO_OPENGL = np.diag([1.0, -1.0, -1.0])


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
    write_png(base + suffix, picture)
  mesh = camera_vertices(person) @ OPENCV_TO_OPENGL
  mesh_io.write_obj(base + ".obj", mesh, faces)
  mesh_io.write_ply(base + ".ply", mesh, faces)
  parameters = dict(person.to_json(), image=source,
                    keypoint_names=list(joints.COCOPLUS_19.names),
                    joint_names=list(joints.SMPL_24.names))
  with atomic.atomic_write(base + ".json", "w") as f:
    json.dump(parameters, f, indent=1)


def write_png(path, rgb):
  """Writes an [H, W, 3] uint8 RGB picture as a PNG, atomically."""
  ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
  if not ok:
    raise RuntimeError(f"PNG encoding failed for {path}")
  with atomic.atomic_write(path) as f:
    f.write(png.tobytes())


def output_names(paths):
  """A distinct output name per image: its file name's stem, numbered where stems repeat."""
  names, seen = [], {}
  for path in paths:
    stem = os.path.splitext(os.path.basename(path))[0]
    seen[stem] = seen.get(stem, 0) + 1
    names.append(stem if seen[stem] == 1 else f"{stem}_{seen[stem]}")
  return names
