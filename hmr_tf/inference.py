"""Predictor: HMR on photos, from an exported SavedModel or a .tflite file.

  predictor = Predictor("saved_models/q")           # or "saved_models/q/tflite/fp32.tflite"
  person = predictor.predict("photo.jpg")            # the image is the person's crop
  person = predictor.predict(image, box=(x0, y0, x1, y1))
  person = predictor.predict("photo.jpg", keypoints="photo_keypoints.json")
  person.vertices, person.keypoints2d, person.camera_translation, person.focal_length

The crop happens inside the exported model (hmr_tf/export/crop.py): without a box the whole
image is the person's crop (the original demo's rule); with a person box, or the tight box of
the most confident person's keypoints in an OpenPose or COCO json (the original demo's rule for
OpenPose), the crop is taken at the training data's person scale.

Over a .tflite file nothing here needs TensorFlow: ai-edge-litert runs it (pip install
ai-edge-litert, the `litert` extra), images are read with OpenCV.
"""

import dataclasses
import json
import os

import cv2
import numpy as np

from hmr_tf.checks import BadInput
from hmr_tf.export import formats

# OpenPose marks a keypoint seen above this confidence (the original's openpose.py, vis_thr).
OPENPOSE_THRESHOLD = 0.2


@dataclasses.dataclass
class Person:
  """One person's prediction on an image (metres, image pixels with pixel centres at integers).

  theta [85] = camera [3] (s, tx, ty of the crop) | pose [72] axis-angle | shape [10].
  vertices [V, 3], joints3d [24, 3] (SMPL joints), keypoints3d [19, 3] (cocoplus-19): body frame.
  keypoints2d [19, 2]: the keypoints' weak-perspective projection, image pixels (x, y).
  camera_translation [3]: add it to the body to place it in the camera frame of a pinhole
    camera (x right, y down, z forward) of focal length `focal_length` px and principal point
    at the image centre ((W − 1) / 2, (H − 1) / 2); it projects the body onto the photo.
  crop_box [4]: the square window the model saw, (x0, y0, x1, y1) image pixels.
  box [4] or None: the person box the crop came from.
  image_size: (height, width).
  """

  theta: np.ndarray
  camera: np.ndarray
  pose: np.ndarray
  shape: np.ndarray
  vertices: np.ndarray
  joints3d: np.ndarray
  keypoints3d: np.ndarray
  keypoints2d: np.ndarray
  camera_translation: np.ndarray
  focal_length: float
  crop_box: np.ndarray
  box: np.ndarray
  image_size: tuple

  def to_json(self):
    """A dict of plain lists and numbers (json.dump-able)."""
    return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}


class Predictor:
  """HMR behind an exported SavedModel directory or a .tflite file.

  Args:
    model_path: a SavedModel directory written by hmr-export, or one of its .tflite files.
    focal_length: the focal length in pixels that camera_translation is for; None takes the
      image diagonal (CLIFF's assumption for photos of unknown intrinsics).
    num_threads: TFLite interpreter threads (None: every core).

  Attributes:
    image_size: S, the side of the model's input crops.
    faces: [F, 3] int32, the mesh's triangles.
  """

  def __init__(self, model_path, focal_length=None, num_threads=None):
    if model_path.endswith(".tflite"):
      self._backend = _TFLiteBackend(model_path, num_threads)
    elif os.path.isdir(model_path):
      self._backend = _SavedModelBackend(model_path)
    else:
      raise BadInput(f"{model_path}: expected a SavedModel directory or a .tflite file")
    self.model_path = model_path
    self.focal_length = focal_length
    self.image_size = self._backend.crop_size
    self.faces = self._backend.faces

  def __call__(self, crops):
    """The model's outputs on prepared crops, in HMR's conventions (as HMR's call returns).

    Args:
      crops: [N, S, S, 3] float32 in [-1, 1].

    Returns:
      A dict of numpy arrays: "theta", "camera", "pose", "shape", "vertices", "joints3d",
      "keypoints3d", and "keypoints2d" in [-1, 1] crop coordinates. Serves
      hmr_tf.evaluation.evaluate_model.
    """
    crops = np.asarray(crops, np.float32)
    out = self._backend.run("serve_crops", crops=crops)
    out = {key: out[key] for key in formats.MODEL_OUTPUTS}
    out["keypoints2d"] = (out["keypoints2d"] + 0.5) * (2.0 / crops.shape[1]) - 1.0
    return out

  def predict(self, image, box=None, keypoints=None, name=None):
    """One person on one image.

    Args:
      image: a file path or an [H, W, 3] uint8 RGB array.
      box: the person's (x0, y0, x1, y1) in pixels, or None.
      keypoints: an OpenPose or COCO keypoints json path (used when box is None), or None.
      name: the image's name in messages and in a COCO annotation file (default: its path).

    Returns:
      A Person.

    Raises:
      BadInput: an unreadable image, a json without a person, a box outside the image.
    """
    if isinstance(image, str):
      name = name or image
      image = read_image(image)
    name = name or "the image"
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
      raise BadInput(f"{name}: expected an [H, W, 3] uint8 RGB image, found "
                     f"{image.dtype} {list(image.shape)}")
    if box is None and keypoints is not None:
      box = person_box_from_json(keypoints, image_name=name)
    if box is None:
      out = self._backend.run("serving_default", images=image[None])
    else:
      box = check_box(box, image.shape[:2], name)
      out = self._backend.run("serve_boxes", images=image[None], boxes=box[None])
    translation = out["camera_translation"][0]
    focal_length = float(out["focal_length"][0])
    if self.focal_length is not None:  # T_z grows with the focal length, T_xy does not
      translation = translation * [1.0, 1.0, self.focal_length / focal_length]
      focal_length = float(self.focal_length)
    return Person(**{key: out[key][0] for key in formats.MODEL_OUTPUTS},
                  camera_translation=translation,
                  focal_length=focal_length, crop_box=out["crop_boxes"][0], box=box,
                  image_size=tuple(image.shape[:2]))


def read_image(path):
  """RGB uint8 [H, W, 3] (grey and alpha dropped to RGB); BadInput naming the file.

  OpenCV rather than hmr_tf.datasets' reader, whose module imports TensorFlow.
  """
  if not os.path.isfile(path):
    raise BadInput(f"{path}: no such image file")
  image = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
  if image is None:
    raise BadInput(f"{path}: not a readable image (expected a JPEG, PNG, BMP, WebP or TIFF)")
  return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def check_box(box, image_size, image_name="the image"):
  """A person box as float32 [4], or BadInput where it is not a box inside the image."""
  box = np.asarray(box, np.float32).reshape(-1)
  height, width = image_size
  if box.shape != (4,) or not np.all(np.isfinite(box)) or box[2] <= box[0] or box[3] <= box[1]:
    raise BadInput(f"{image_name}: a person box is (x0, y0, x1, y1) with x0 < x1 and y0 < y1; "
                   f"found {box.tolist()}")
  if box[2] < 0 or box[3] < 0 or box[0] > width - 1 or box[1] > height - 1:
    raise BadInput(f"{image_name}: the person box {box.tolist()} lies outside the "
                   f"{width}×{height} image")
  return box


def person_box_from_json(path, image_name=None):
  """The tight box of the most confident person's keypoints in an OpenPose or COCO json.

  OpenPose (`{"people": [{"pose_keypoints_2d": [x, y, c, …]}]}`, or the old key
  "pose_keypoints"): as the original demo, keypoints with c > 0.2 count, and the person with
  the highest mean confidence over them is chosen. COCO: a list of results
  (`[{"keypoints": [x, y, v, …], "score": …}]`) or an annotation file (`{"annotations": …,
  "images": …}`, restricted to `image_name`'s entry where it is listed); keypoints with v > 0
  count, and the person with the highest score, else the most keypoints, is chosen.

  Returns:
    [4] float32 (x0, y0, x1, y1) in pixels.

  Raises:
    BadInput: an unreadable json, or no person with two distinct keypoints.
  """
  try:
    with open(path, encoding="utf-8") as f:
      data = json.load(f)
  except (OSError, ValueError) as e:
    raise BadInput(f"{path}: not a readable keypoints json ({e})") from e
  people = _openpose_people(data) if isinstance(data, dict) and "people" in data else \
      _coco_people(data, image_name)
  if people is None:
    raise BadInput(f"{path}: neither OpenPose ('people') nor COCO ('keypoints') keypoints")
  best = None
  for score, points in people:
    if len(points) >= 2 and np.ptp(points, axis=0).max() > 0 and (best is None or
                                                                  score > best[0]):
      best = (score, points)
  if best is None:
    raise BadInput(f"{path}: no person with at least two distinct keypoints")
  points = best[1]
  return np.concatenate([points.min(axis=0), points.max(axis=0)]).astype(np.float32)


def _openpose_people(data):
  people = []
  for person in data["people"]:
    values = person.get("pose_keypoints_2d", person.get("pose_keypoints"))
    if not values:
      continue
    keypoints = np.asarray(values, np.float64).reshape(-1, 3)
    seen = keypoints[:, 2] > OPENPOSE_THRESHOLD
    if seen.any():
      people.append((keypoints[seen, 2].mean(), keypoints[seen, :2]))
  return people


def _coco_people(data, image_name):
  if isinstance(data, dict) and "annotations" in data:
    annotations = data["annotations"]
    if image_name and "images" in data:
      ids = {entry.get("id") for entry in data["images"]
             if os.path.basename(str(entry.get("file_name", ""))) == os.path.basename(image_name)}
      annotations = [a for a in annotations if a.get("image_id") in ids] if ids else annotations
  elif isinstance(data, list):
    annotations = data
  else:
    return None
  people = []
  for annotation in annotations:
    if not isinstance(annotation, dict) or not annotation.get("keypoints"):
      continue
    keypoints = np.asarray(annotation["keypoints"], np.float64).reshape(-1, 3)
    seen = keypoints[:, 2] > 0
    people.append(((annotation.get("score", 0.0), seen.sum()), keypoints[seen, :2]))
  return people


class _SavedModelBackend:
  """A SavedModel's signatures (TensorFlow is imported here only)."""

  def __init__(self, path):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    self._tf = tf
    try:
      self._signatures = tf.saved_model.load(path).signatures
    except (OSError, ValueError) as e:
      raise BadInput(f"{path}: not a SavedModel ({e})") from e
    if "serve_crops" not in self._signatures:
      raise BadInput(f"{path}: not an hmr-export SavedModel (no 'serve_crops' signature; found "
                     f"{sorted(self._signatures)})")
    self.crop_size = self._signatures["serve_crops"].structured_input_signature[1][
        "crops"].shape[1]
    self.faces = np.load(os.path.join(path, formats.FACES_FILE), allow_pickle=False)

  def run(self, signature, **inputs):
    outputs = self._signatures[signature](**{k: self._tf.constant(v) for k, v in inputs.items()})
    return {key: value.numpy() for key, value in outputs.items()}


class _TFLiteBackend:
  """A .tflite file's signatures in ai-edge-litert's interpreter."""

  def __init__(self, path, num_threads):
    try:
      from ai_edge_litert import interpreter  # pylint: disable=import-outside-toplevel
    except ImportError as e:
      raise ImportError("running a .tflite file needs ai-edge-litert: pip install "
                        "ai-edge-litert (hmr_tf's `litert` extra)") from e
    if not os.path.isfile(path):
      raise BadInput(f"{path}: no such .tflite file")
    try:
      self._interpreter = interpreter.Interpreter(model_path=path,
                                                  num_threads=num_threads or os.cpu_count())
    except ValueError as e:
      raise BadInput(f"{path}: not a loadable .tflite file ({e})") from e
    self._runners = {name: self._interpreter.get_signature_runner(name)
                     for name in self._interpreter.get_signature_list()}
    if "serve_crops" not in self._runners:
      raise BadInput(f"{path}: not an hmr-export .tflite file (no 'serve_crops' signature)")
    self.crop_size = int(self._runners["serve_crops"].get_input_details()["crops"][
        "shape_signature"][1])
    self.faces = _tflite_metadata(path, formats.FACES_METADATA).view("<i4").reshape(-1, 3)

  def run(self, signature, **inputs):
    runner = self._runners[signature]
    batch = len(next(iter(inputs.values())))
    fixed = {int(d["shape_signature"][0]) for d in runner.get_input_details().values()}
    if fixed == {1} and batch > 1:  # the full-integer file is batch 1 (calibration needs it)
      parts = [runner(**{k: v[i:i + 1] for k, v in inputs.items()}) for i in range(batch)]
      return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return runner(**inputs)


def _tflite_metadata(path, name):
  """The bytes [n] uint8 of a .tflite file's metadata buffer `name` (ai-edge-litert's schema)."""
  from ai_edge_litert import schema_py_generated as schema  # pylint: disable=import-outside-toplevel
  with open(path, "rb") as f:
    model = schema.Model.GetRootAs(f.read(), 0)
  for i in range(model.MetadataLength()):
    if model.Metadata(i).Name().decode() == name:
      return model.Buffers(model.Metadata(i).Buffer()).DataAsNumpy()
  raise BadInput(f"{path}: no '{name}' metadata (not written by hmr-export)")


def _plain(value):
  if isinstance(value, np.ndarray):
    return value.tolist()
  if isinstance(value, (np.floating, np.integer)):
    return value.item()
  if isinstance(value, tuple):
    return list(value)
  return value
