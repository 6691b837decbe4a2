"""LSP-extended (LSPET): 10 000 training images of one person each.

  hmr-convert lspet --input lspet_dataset --output datasets/lspet

The input folder holds joints.mat, whose variable `joints` is 14×3×10000 (x, y and a flag that
is 1 where the joint is visible: the opposite of LSP's), and images/im00001.jpg …
im10000.jpg. As in HMR, only visible joints are labelled, and the people are stored at the
size the release scaled them to, about 150 px (lsp.py).
"""

import os

from hmr_tf import joints
from hmr_tf.datasets import keypoints2d
from hmr_tf.datasets import lsp
from hmr_tf.datasets import raw_files

KIND = "person"
SPLITS = ("train",)
SOURCE_JOINTS = joints.LSP_14


def list_items(input_dir, split):
  """Every image, in file order (all of LSP-extended is training data)."""
  if split != "train":
    raise ValueError(f"lspet has only a 'train' split, not '{split}'")
  path, keypoints = lsp.read_joints(input_dir, "jci", visible_flag=1)
  images = raw_files.find(input_dir, ["images/"], "image folder")
  rule = lsp.scale_rule(keypoints)
  return [lsp.Item(os.path.join(images, f"im{i + 1:05d}.jpg"), k, f"{path}: joints[:, :, {i}]",
                   rule) for i, k in enumerate(keypoints)]


def make_examples(item):
  yield keypoints2d.example("lspet", item.image_path, item.keypoints, SOURCE_JOINTS,
                            item.source, item.rule)
