"""COCO person keypoints (2014 or 2017 release), with HMR's filters.

  hmr-convert coco --input coco --output datasets/coco

The input folder holds annotations/person_keypoints_{train,val}{2014,2017}.json and the
images in {train,val}{2014,2017}/ or images/{train,val}{2014,2017}/ (2014 is used when both
releases are there: HMR trained on train2014). Each person annotation is one item; as in
HMR's coco_to_tfrecords.py a person is kept if it has at least 6 visible (not occluded)
keypoints, a bounding box longer than 60 px on its longer side, and a labelled point other
than the face and shoulders. Both occluded (1) and visible (2) points are labelled; COCO has
no neck or head top, so those are stored as missing. People are sized by HMR's COCO rule
(person_scale.coco): the keypoints' box where an ankle is labelled, else one or both
shoulder-hip pairs, else the box again at a third of the size.
"""

import dataclasses
import os

import numpy as np

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.data.shards import SkipExample
from hmr_tf.datasets import keypoints2d
from hmr_tf.datasets import raw_files

KIND = "person"
SPLITS = ("train", "val")
SOURCE_JOINTS = joints.COCO_17

MIN_VISIBLE = 6  # HMR's min_vis: points with COCO visibility 2
MIN_SIZE = 60.0  # px: HMR's min_max_height, the longer side of the bounding box
_YEARS = ("2014", "2017")
_PERSON = 1  # COCO's category id for people
_VISIBLE = 2  # COCO visibility: 0 unlabelled, 1 labelled but occluded, 2 visible
_BEYOND_FACE_AND_SHOULDERS = SOURCE_JOINTS.indices([
    n for n in SOURCE_JOINTS.names
    if n not in ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
                 "right_shoulder")])


@dataclasses.dataclass(frozen=True)
class Item:
  """One person annotation: its keypoints, bbox and iscrowd fields, checked when converted."""

  image_path: str
  annotation: dict
  source: str  # file and annotation id, for error messages

  def field(self, name, size):
    """The flat list `name` of `size` numbers."""
    if name not in self.annotation:
      raise checks.BadInput(f"{self.source}: field '{name}' is missing")
    return checks.array(self.annotation[name], (size,), name, self.source)


def make_examples(item):
  if item.annotation.get("iscrowd"):
    raise SkipExample("crowd annotation")
  keypoints = item.field("keypoints", len(SOURCE_JOINTS) * 3).reshape(-1, 3)
  visibility = keypoints[:, 2]
  if not np.any(visibility > 0):
    raise SkipExample("no keypoints labelled")
  if np.sum(visibility == _VISIBLE) < MIN_VISIBLE:
    raise SkipExample(f"fewer than {MIN_VISIBLE} visible keypoints")
  if np.max(item.field("bbox", 4)[2:]) <= MIN_SIZE:
    raise SkipExample(f"bounding box {MIN_SIZE:g} px or smaller")
  if not np.any(visibility[_BEYOND_FACE_AND_SHOULDERS] > 0):
    raise SkipExample("only face and shoulders labelled")
  yield keypoints2d.example("coco", item.image_path, keypoints, SOURCE_JOINTS, item.source,
                            "coco")


def list_items(input_dir, split):
  """One item per person annotation of the split, in file order."""
  if split not in SPLITS:
    raise ValueError(f"coco has splits {SPLITS}, not '{split}'")
  releases = {os.path.join("annotations", f"person_keypoints_{split}{year}.json"): year
              for year in _YEARS}
  path = raw_files.find(input_dir, list(releases), "COCO person-keypoints file")
  folder = split + releases[os.path.relpath(path, input_dir)]
  images = raw_files.find(input_dir, [folder + "/", f"images/{folder}/"], "image folder")
  data = raw_files.load_json(path)
  for field in ("images", "annotations"):
    if not isinstance(data, dict) or not isinstance(data.get(field), list):
      raise checks.BadInput(f"{path}: field '{field}' is missing or not a list")
  file_names = {}
  for i, image in enumerate(data["images"]):
    if not (isinstance(image, dict) and isinstance(image.get("id"), int)
            and isinstance(image.get("file_name"), str)):
      raise checks.BadInput(f"{path}: entry {i} of 'images' lacks an int 'id' or a str "
                            "'file_name'")
    file_names[image["id"]] = image["file_name"]
  items = []
  for annotation in data["annotations"]:
    if not isinstance(annotation, dict):
      raise checks.BadInput(f"{path}: an entry of 'annotations' is not an object")
    if annotation.get("category_id", _PERSON) != _PERSON:
      continue
    source = f"{path}: annotation id {annotation.get('id')}"
    image_id = annotation.get("image_id")
    if not isinstance(image_id, int) or image_id not in file_names:
      raise checks.BadInput(f"{source}: field 'image_id' ({image_id}) names no entry of "
                            "'images'")
    # The segmentation (most of the file) is not needed; workers get the rest.
    fields = {k: annotation[k] for k in ("keypoints", "bbox", "iscrowd") if k in annotation}
    items.append(Item(os.path.join(images, file_names[image_id]), fields, source))
  return items
