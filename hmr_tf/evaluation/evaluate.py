"""Runs a model over a converted split and scores it under the split's benchmark protocols.

  results = evaluate.evaluate_model(model, "datasets/h36m", split="test", batch_size=32)
  results["mpjpe"], results["pa_mpjpe"]          # mm: protocol 1, means over all frames
  results["per_action"]["Walking"]["pa_mpjpe"]
  results["h36m_p2"]["pa_mpjpe"]                 # a further protocol nests under its name

`model` is an HMR keras.Model (run in a tf.function with training=False) or any callable that
takes float32 numpy images [b, S, S, 3] in [-1, 1] and returns a mapping with "keypoints3d"
[b, K ≥ 14, 3] (metres; the 14 LSP joints first, as cocoplus-19), and where it has them
"vertices" [b, V, 3] (for PVE) and "keypoints2d" [b, K ≥ 14, 2] ([-1, 1] of the crop, for 2D
PCK): a SavedModel or a TFLite file behind hmr_tf.inference serves the same way.

Ground truth per example: the stored 3D joints where has_3d; else, where the split has SMPL
parameters (3DPW), the LSP joints of the body model posed with them; else none (LSP: 2D only).
The ground-truth mesh for PVE is always the body model posed with the stored pose and shape.
"""

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf
import tqdm

from hmr_tf import joints
from hmr_tf.body import SMPL
from hmr_tf.body import spec
from hmr_tf.data import pipeline
from hmr_tf.data import shards
from hmr_tf.evaluation import metrics
from hmr_tf.evaluation import protocols as protocols_lib
from hmr_tf.evaluation import scoring

_NUM_JOINTS = len(joints.LSP_14)


@dataclasses.dataclass
class Predictions:
  """A model's outputs and the ground truth over a split, in stored order (N examples).

  dataset: the split's dataset name (info.json).
  image_ids: [N] str.
  pred_joints: [N, 14, 3] predicted LSP joints, metres.
  gt_joints: [N, 14, 3] ground-truth LSP joints, metres; NaN where there is none.
  pve_mm: [N] per-vertex error (metrics.pve), mm; NaN where there is no SMPL ground truth or
    the model gives no vertices.
  gt_keypoints2d: [N, 14, 3] (x, y, labelled) in [-1, 1] of the crop.
  pred_keypoints2d: [N, 14, 2] in [-1, 1] of the crop, or None where the model gives none.
  """

  dataset: str
  image_ids: np.ndarray
  pred_joints: np.ndarray
  gt_joints: np.ndarray
  pve_mm: np.ndarray
  gt_keypoints2d: np.ndarray
  pred_keypoints2d: np.ndarray = None


def evaluate_model(model, dataset_dir, split="test", batch_size=32, protocols=None,
                   body_model=None, image_size=None):
  """Every number of the split's protocols (scoring.py lists them), in mm and percent.

  Args:
    model: see the module docstring.
    dataset_dir: a converted dataset (shards and info.json).
    split: the split to evaluate.
    batch_size: images per model call.
    protocols: protocol names (a list or "a,b"); None picks the dataset's own
      (protocols.DEFAULT_PROTOCOLS). Further protocols nest under their names.
    body_model: see predict.
    image_size: see predict.

  Returns:
    A dict of the first protocol's numbers, each further protocol's under its name.
  """
  predictions = predict(model, dataset_dir, split, batch_size, body_model, image_size)
  return scoring.score_all(predictions,
                           protocols_lib.protocols_for(predictions.dataset, protocols))


def predict(model, dataset_dir, split="test", batch_size=32, body_model=None, image_size=None,
            progress=False):
  """Runs the model over a split (pipeline.eval_dataset: stored order, the centre crop).

  Args:
    model: see the module docstring.
    dataset_dir: a converted dataset.
    split: the split to read.
    batch_size: images per model call.
    body_model: the body model that poses the SMPL ground truth: an SMPL layer, a BodyModel or
      a spec string; None takes the model's own (`model.smpl`), else the free body model.
      It must be the model's own for PVE to compare like with like.
    image_size: the model's input size; None reads `model.image_size`.
    progress: show a progress bar.

  Returns:
    Predictions.
  """
  image_size = image_size or getattr(model, "image_size", None)
  if not image_size:
    raise ValueError("the model has no `image_size` attribute: pass image_size")
  info = shards.read_info(dataset_dir)
  run = _runner(model)
  ground_truth_body = _GroundTruthBody(body_model or getattr(model, "smpl", None) or spec.FREE)
  batches = pipeline.eval_dataset(dataset_dir, batch_size, image_size, split)
  total = math.ceil(info["splits"][split]["examples"] / batch_size)
  parts = {name: [] for name in ("image_ids", "pred_joints", "gt_joints", "pve_mm",
                                 "gt_keypoints2d", "pred_keypoints2d")}
  for batch in tqdm.tqdm(batches, total=total, desc=f"evaluate {split}", disable=not progress):
    outputs = run(batch["image"])
    pred_joints = _lsp(outputs, "keypoints3d", 3)
    gt_joints = np.where(batch["has_3d"].numpy()[:, None, None] > 0,
                         batch["keypoints3d"].numpy(), np.nan)
    pve_mm = np.full(len(pred_joints), np.nan)
    has_smpl = batch["has_smpl"].numpy() > 0
    if has_smpl.any():
      body = ground_truth_body(batch["pose"], batch["shape"])
      gt_joints = np.where(np.isnan(gt_joints) & has_smpl[:, None, None], body["joints"],
                           gt_joints)
      if "vertices" in outputs:
        pve_mm = np.where(has_smpl, _pve_mm(outputs["vertices"], pred_joints, body,
                                            ground_truth_body.name), np.nan)
    parts["image_ids"].append(batch["image_id"].numpy().astype(str))
    parts["pred_joints"].append(pred_joints)
    parts["gt_joints"].append(gt_joints)
    parts["pve_mm"].append(pve_mm)
    parts["gt_keypoints2d"].append(batch["keypoints2d"].numpy()[:, :_NUM_JOINTS])
    if "keypoints2d" in outputs:
      parts["pred_keypoints2d"].append(_lsp(outputs, "keypoints2d", 2))
  if not parts["image_ids"]:
    raise ValueError(f"{dataset_dir}: the '{split}' split has no examples")
  return Predictions(dataset=info["dataset"], **{
      name: np.concatenate(values) if values else None for name, values in parts.items()})


def _runner(model):
  """images [b, S, S, 3] tf.Tensor -> the model's outputs, a mapping of arrays."""
  if isinstance(model, keras.Model):
    # One graph for all full batches and one for the last, smaller one.
    call = tf.function(lambda images: model(images, training=False), reduce_retracing=True)
    return lambda images: {k: v.numpy() for k, v in call(images).items()}
  return lambda images: model(images.numpy())


def _lsp(outputs, key, dims):
  """The first 14 (LSP) points of outputs[key] as float64 [b, 14, dims]."""
  if key not in outputs:
    raise ValueError(f"the model's outputs lack '{key}' (found {sorted(outputs)})")
  points = np.asarray(outputs[key], np.float64)
  if points.ndim != 3 or points.shape[1] < _NUM_JOINTS or points.shape[2] != dims:
    raise ValueError(f"the model's '{key}' should be [batch, ≥{_NUM_JOINTS}, {dims}] with the "
                     f"LSP joints first; found {list(points.shape)}")
  return points[:, :_NUM_JOINTS]


def _pve_mm(pred_vertices, pred_joints, body, body_name):
  """[b] metrics.pve in mm of predicted vertices against the posed ground-truth body."""
  pred_vertices = np.asarray(pred_vertices, np.float64)
  if pred_vertices.shape[1:] != body["vertices"].shape[1:]:
    raise ValueError(f"the model's vertices {list(pred_vertices.shape[1:])} and those of body "
                     f"model {body_name} {list(body['vertices'].shape[1:])} differ: pass the "
                     "model's own body model as body_model")
  return metrics.pve(pred_vertices * 1000.0, body["vertices"] * 1000.0, pred_joints * 1000.0,
                     body["joints"] * 1000.0)


class _GroundTruthBody:
  """The body model posed with stored SMPL parameters: LSP joints and vertices, metres.

  Built on first use, so that splits without SMPL ground truth never load a body model.
  """

  def __init__(self, body_model):
    self._body_model = body_model
    self._smpl = None

  @property
  def name(self):
    return getattr(self._smpl, "body_model", self._body_model)

  def __call__(self, pose, shape):
    if self._smpl is None:
      self._smpl = (self._body_model if isinstance(self._body_model, SMPL)
                    else SMPL(self._body_model))
    out = self._smpl(pose, shape)
    keypoints = out["keypoints"].numpy().astype(np.float64)
    if keypoints.shape[1] != len(joints.COCOPLUS_19):
      raise ValueError(f"body model {self.name} has no cocoplus keypoint regressor: its LSP "
                       "joints, the ground truth of SMPL-only splits, are unknown")
    return {"joints": keypoints[:, :_NUM_JOINTS],
            "vertices": out["vertices"].numpy().astype(np.float64)}
