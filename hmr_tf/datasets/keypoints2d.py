"""The stored example of a person labelled with 2D keypoints in any dataset's joint order."""

import os

import numpy as np

from hmr_tf import checks
from hmr_tf import joints
from hmr_tf.datasets import person_item


def example(dataset, image_path, keypoints, joint_set, source, rule):
  """Reads the image, maps the keypoints to cocoplus and crops the person as HMR does.

  Args:
    dataset: name stored with the example.
    image_path: the source image; its file name is stored as the image id.
    keypoints: [K, 3] (x, y, labelled) in `joint_set` order, source pixels; labelled > 0
      where the point is annotated (occluded or not).
    joint_set: the JointSet of `keypoints`.
    source: where the keypoints come from (file and entry), for error messages.
    rule: the name of the person_scale rule of the dataset's original converter.

  Returns:
    tf.train.Example; SkipExample where the rule drops the person or no labelled point lies
    in the crop.
  """
  keypoints = checks.array(keypoints, (len(joint_set), 3), "keypoints", source)
  labelled = keypoints[:, 2] > 0
  if not np.all(np.isfinite(keypoints[labelled, :2])):
    raise checks.BadInput(f"{source}: labelled keypoints have non-finite coordinates")
  cocoplus = joints.convert(keypoints, joint_set, joints.COCOPLUS_19)
  cocoplus[:, 2] = cocoplus[:, 2] > 0
  person = person_item.Person(image_path, os.path.basename(image_path), cocoplus, rule=rule)
  return person_item.example(person, dataset)
