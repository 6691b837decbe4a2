"""MPII Human Pose: the official .mat release, or the JSON form of mmpose and HRNet.

  hmr-convert mpii --input mpii --output datasets/mpii

The input folder holds images/ and one of (the .mat is used when both are there):
  - mpii_human_pose_v1_u12_1.mat (at the top, in annotations/ or in mpii_human_pose_v1_u12_2/):
    MATLAB struct RELEASE with annolist(i).image.name, annolist(i).annorect(r).annopoints.point
    (x, y, id 0-15), img_train(i) and single_person{i} (1-based annorect indices). As HMR
    does, this converts the single persons of the training images and labels every annotated
    point, occluded or not (the test images carry no keypoints).
  - annotations/mpii_train.json (mmpose) or annot/train.json (HRNet): a list of
    {"image", "joints" [16][2], "joints_vis" [16], "center", "scale"}, one per person.
Coordinates are kept as both forms store them (MATLAB's 1-based pixels), as HMR does. People
are sized by HMR's MPII rule (person_scale.mpii): the keypoints' box where an ankle is
labelled, else head top to hip, else shoulder to hip; a person with none of these is dropped.
"""

import dataclasses
import os

import numpy as np
from scipy.io.matlab import mat_struct

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.data.shards import SkipExample
from hmr_tf.datasets import keypoints2d
from hmr_tf.datasets import raw_files

KIND = "person"
SPLITS = ("train",)
SOURCE_JOINTS = joints.MPII_16

_MAT_FILES = ("mpii_human_pose_v1_u12_1.mat", "annotations/mpii_human_pose_v1_u12_1.mat",
              "mpii_human_pose_v1_u12_2/mpii_human_pose_v1_u12_1.mat")
_JSON_FILES = ("annotations/mpii_train.json", "annot/train.json")


@dataclasses.dataclass(frozen=True)
class MatPerson:
  """A single person of the official release: its annorect struct, parsed when converted."""

  image_path: str
  rect: mat_struct
  source: str  # file and struct path, for error messages

  def keypoints(self):
    annopoints = getattr(self.rect, "annopoints", None)
    if not isinstance(annopoints, mat_struct):
      raise SkipExample("no keypoints annotated")
    keypoints = np.zeros((len(SOURCE_JOINTS), 3))
    for point in np.atleast_1d(getattr(annopoints, "point", [])):
      try:
        joint, x, y = int(point.id), float(point.x), float(point.y)
      except (AttributeError, TypeError, ValueError) as error:
        raise checks.BadInput(f"{self.source}.annopoints.point: field id, x or y is missing "
                              f"or not a number ({error})") from None
      if not 0 <= joint < len(SOURCE_JOINTS):
        raise checks.BadInput(f"{self.source}.annopoints.point: field id is {joint}, not 0-15")
      keypoints[joint] = x, y, 1.0
    return keypoints


@dataclasses.dataclass(frozen=True)
class JsonPerson:
  """A person of the JSON form: its entry, checked when converted."""

  image_path: str
  entry: dict
  source: str  # file and entry index, for error messages

  def keypoints(self):
    xy = self._field("joints", (len(SOURCE_JOINTS), 2))
    labelled = self._field("joints_vis", (len(SOURCE_JOINTS),)) > 0
    return np.concatenate([xy, labelled[:, None]], axis=1)

  def _field(self, name, shape):
    if name not in self.entry:
      raise checks.BadInput(f"{self.source}: field '{name}' is missing")
    return checks.array(self.entry[name], shape, name, self.source)


def _mat_items(path, images):
  release = raw_files.load_mat(path, ("RELEASE",), struct_as_record=False, squeeze_me=True)["RELEASE"]
  fields = []
  for name in ("annolist", "img_train", "single_person"):
    if not hasattr(release, name):
      raise checks.BadInput(f"{path}: RELEASE has no field '{name}'")
    fields.append(np.atleast_1d(getattr(release, name)))
  annolist, img_train, single_person = fields
  img_train = checks.array(img_train, ("N",), "RELEASE.img_train", path)
  if not len(annolist) == len(img_train) == len(single_person):
    raise checks.BadInput(f"{path}: RELEASE.annolist, img_train and single_person differ in length "
                          f"({len(annolist)}, {len(img_train)}, {len(single_person)})")
  items = []
  for i in np.flatnonzero(img_train):
    entry = f"{path}: RELEASE.annolist({i + 1})"
    try:
      name = annolist[i].image.name
      rects = np.atleast_1d(annolist[i].annorect)
    except AttributeError:
      raise checks.BadInput(f"{entry}: field image.name or annorect is missing") from None
    if not isinstance(name, str):
      raise checks.BadInput(f"{entry}: expected image.name to be a file name, found {name!r}")
    chosen = checks.array(np.atleast_1d(single_person[i]), ("R",),
                          f"RELEASE.single_person{{{i + 1}}}", path).astype(int)
    for r in chosen:
      if not 1 <= r <= len(rects):
        raise checks.BadInput(f"{path}: RELEASE.single_person{{{i + 1}}} names annorect({r}), but "
                              f"the image has {len(rects)}")
      items.append(MatPerson(os.path.join(images, name), rects[r - 1],
                             f"{entry}.annorect({r})"))
  return items


def _json_items(path, images):
  entries = raw_files.load_json(path)
  if not isinstance(entries, list):
    raise checks.BadInput(f"{path}: should hold a list of person entries, found "
                          f"{type(entries).__name__}")
  items = []
  for i, entry in enumerate(entries):
    if not isinstance(entry, dict) or not isinstance(entry.get("image"), str):
      raise checks.BadInput(f"{path}: entry {i}: field 'image' is missing or not a file name")
    items.append(JsonPerson(os.path.join(images, entry["image"]), entry, f"{path}: entry {i}"))
  return items


def list_items(input_dir, split):
  """One item per person, from the .mat release if present, else from the JSON form."""
  if split not in SPLITS:
    raise ValueError(f"mpii has splits {SPLITS}, not '{split}'")
  path = raw_files.find(input_dir, _MAT_FILES + _JSON_FILES, "MPII annotation file")
  images = raw_files.find(input_dir, ["images/"], "image folder")
  return (_mat_items if path.endswith(".mat") else _json_items)(path, images)


def make_examples(item):
  yield keypoints2d.example("mpii", item.image_path, item.keypoints(), SOURCE_JOINTS,
                            item.source, "mpii")
