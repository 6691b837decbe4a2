"""Stored person size on the real samples in ../shared/data, against the original's rules.

  python benchmarks/person_size.py [--before OLD_TREE]

Converts each sample with hmr-convert's converters and measures, per person, the size the
stored crop gives them: the diagonal of their labelled 2D keypoints' box, in reference pixels
(source diagonal × crop/scale). The original's size is computed here from the raw annotations
by the formulas of akanazawa/hmr's converters, written out with the datasets' own joint
indices (independently of hmr_tf.datasets.person_scale). With --before, a checkout of an
older hmr_tf (e.g. `git archive 4561076 | tar -x -C OLD_TREE`) converts the same samples in a
subprocess, for a third column. Prints a markdown table of medians (and ranges of the ratios).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
MMPOSE = os.path.join(SHARED, "mmpose_testdata")


def _link(root, links):
  """A folder laid out as a converter expects, of links to the real files."""
  for name, target in links.items():
    os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
    os.symlink(target, os.path.join(root, name))
  return root


SPLITS = {"lspet": "train", "mpii": "train", "coco": "val", "h36m": "train",
          "mpi_inf_3dhp": "test"}  # the converter of each sample, and the split it fills


def inputs(root):
  """{dataset: input folder} of the real samples, laid out under root where need be."""
  return {
      "lspet": os.path.join(SHARED, "lspet"),
      "mpii": _link(os.path.join(root, "mpii"), {
          "annotations/mpii_train.json": os.path.join(MMPOSE, "mpii", "test_mpii.json"),
          "images": os.path.join(MMPOSE, "mpii")}),
      "coco": _link(os.path.join(root, "coco"), {
          "annotations/person_keypoints_val2017.json": os.path.join(MMPOSE, "coco",
                                                                    "test_coco.json"),
          "val2017": os.path.join(MMPOSE, "coco")}),
      "h36m": os.path.join(MMPOSE, "h36m"),
      "mpi_inf_3dhp": os.path.join(MMPOSE, "mpi_inf_3dhp"),
  }


def convert_all(root, out):
  """Converts every sample into out/<dataset> with the hmr_tf on the path (any version)."""
  from hmr_tf.cli import convert  # pylint: disable=import-outside-toplevel
  for dataset, input_dir in inputs(root).items():
    module = convert.converter(dataset)
    items = convert.list_splits(module, input_dir, [SPLITS[dataset]])
    convert.write_dataset(dataset, module, items, os.path.join(out, dataset), input_dir,
                          skip_bad=True)


def stored(directory, split):
  """[(image_id, crop/scale, stored labelled diagonal)] of a converted split, in order; read
  feature by feature, so that any schema version reads."""
  rows = []
  for path in sorted(tf.io.gfile.glob(os.path.join(directory, f"{split}-*.tfrecord"))):
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
      feature = tf.train.Example.FromString(record).features.feature
      keypoints = np.reshape(feature["keypoints2d"].float_list.value, (-1, 3))
      points = keypoints[keypoints[:, 2] > 0, :2]
      rows.append((feature["image_id"].bytes_list.value[0].decode(),
                   feature["crop/scale"].float_list.value[0],
                   float(np.linalg.norm(np.ptp(points, axis=0)))))
  return rows


# The original's rules on raw annotations, in the datasets' own joint orders.

def _diagonal(points):
  return float(np.linalg.norm(np.ptp(points, axis=0)))


def _mpii_scale(xy, labelled):
  """mpii_to_tfrecords.py on MPII's 16 joints (0/5 ankles, 2/3 hips, 9 head top, 12/13
  shoulders); its box covers the 14 joints it keeps (not 6 pelvis, 7 thorax)."""
  kept = labelled.copy()
  kept[[6, 7]] = False
  if kept[0] or kept[5]:
    return 150 / _diagonal(xy[kept])
  heights = [np.linalg.norm(xy[9] - xy[h]) for h in (2, 3) if kept[9] and kept[h]]
  if heights:
    return 75 / np.mean(heights)
  heights = [np.linalg.norm(xy[s] - xy[h]) for s, h in ((12, 2), (13, 3)) if kept[s] and kept[h]]
  return 56 / np.mean(heights) if heights else None


def _coco_scale(xy, labelled):
  """coco_to_tfrecords.py on COCO's 17 points (15/16 ankles, 5/6 shoulders, 11/12 hips)."""
  if labelled[15] or labelled[16]:
    return 150 / _diagonal(xy[labelled])
  heights = [np.linalg.norm(xy[s] - xy[h]) for s, h in ((5, 11), (6, 12))
             if labelled[s] and labelled[h]]
  if heights:
    return 75 / np.mean(heights)
  return 50 / _diagonal(xy[labelled])


def original_scales(dataset):
  """The original's scale of each person of a sample, in the converters' order."""
  if dataset == "lspet":
    return [1.0] * 200  # lsp_to_tfrecords.py stores the release as it is
  if dataset == "mpii":
    with open(os.path.join(MMPOSE, "mpii", "test_mpii.json"), encoding="utf-8") as f:
      entries = json.load(f)
    return [_mpii_scale(np.array(e["joints"]), np.array(e["joints_vis"]) > 0) for e in entries]
  if dataset == "coco":
    with open(os.path.join(MMPOSE, "coco", "test_coco.json"), encoding="utf-8") as f:
      annotations = json.load(f)["annotations"]
    people = [np.reshape(a["keypoints"], (17, 3)) for a in annotations]
    return [_coco_scale(p[:, :2], p[:, 2] > 0) for p in people if (p[:, 2] > 0).any()]
  # Human3.6M (HMR's converter is unreleased: its 3DHP rule) and MPI-INF-3DHP's test rows:
  # 150 px over the diagonal of every labelled keypoint of the file.
  path = {"h36m": os.path.join(MMPOSE, "h36m", "test_h36m.npz"),
          "mpi_inf_3dhp": os.path.join(MMPOSE, "mpi_inf_3dhp", "test_3dhp_test.npz")}[dataset]
  parts = np.load(path)["part"]
  return [150 / _diagonal(p[p[:, 2] > 0, :2]) for p in parts]


def _range(ratios):
  return f"{np.median(ratios):.2f} ({np.min(ratios):.2f}–{np.max(ratios):.2f})"


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--before", help="an older hmr_tf tree to compare with")
  parser.add_argument("--convert_only", help=argparse.SUPPRESS)  # the subprocess's job
  args = parser.parse_args()
  if args.convert_only:
    with tempfile.TemporaryDirectory() as root:
      convert_all(root, args.convert_only)
    return
  with tempfile.TemporaryDirectory() as root:
    runs = {"now": os.path.join(root, "now")}
    convert_all(os.path.join(root, "links"), runs["now"])
    if args.before:
      runs["before"] = os.path.join(root, "before")
      subprocess.run([sys.executable, os.path.abspath(__file__), "--convert_only",
                      runs["before"]], check=True, capture_output=True,
                     env={**os.environ, "PYTHONPATH": os.path.abspath(args.before)})
    print("| dataset | people | original's rule: median size (px) | ours: median size, "
          "scale ÷ original's (range) |" + (" before: median size, scale ÷ original's "
                                           "(range) |" if args.before else ""))
    print("|---|---:|---:|---:|" + ("---:|" if args.before else ""))
    for dataset, split in SPLITS.items():
      converted = {run: stored(os.path.join(path, dataset), split) for run, path in runs.items()}
      now = converted["now"]
      # The source diagonal, from our examples (they keep every labelled keypoint).
      source = np.array([diagonal / scale for _, scale, diagonal in now])
      original = np.array(original_scales(dataset)[:len(now)], np.float64)
      cells = [dataset, str(len(now)), f"{np.median(source * original):.0f}"]
      for rows in converted.values():
        scales = np.array([scale for _, scale, _ in rows])
        cells.append(f"{np.median(source * scales):.0f}, {_range(scales / original)}")
      print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
  sys.exit(main())
