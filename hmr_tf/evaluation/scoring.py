"""Every number of a protocol, from a split's predictions and ground truth (numpy only).

The results of one protocol form a dict (3D numbers in millimetres, PCK and AUC in percent):
  protocol, examples           the protocol's name and how many examples it scores
  mpjpe, pa_mpjpe              means over the examples with 3D ground truth of their
                               per-example MPJPE / PA-MPJPE (metrics.py); examples_3d counts them
  mpjpe_median, pa_mpjpe_median   medians of the same per-example errors
  pck, auc, pa_pck, pa_auc     MPI-INF-3DHP only: PCK@150 mm and AUC over 0–150 mm, after pelvis
                               alignment and after Procrustes
  pve, pve_median              per-vertex error where the split has SMPL ground truth and the
                               model gives vertices; examples_pve counts them
  pck2d                        PCK@0.2 of the torso over the labelled LSP joints
  per_joint                    {joint: {"mpjpe", "pa_mpjpe", "pck2d"}} (those that apply)
  per_<kind>                   {group: {"mpjpe", "pa_mpjpe", (pck, auc, pa_pck, pa_auc),
                               "examples"}}, kind "action" or "sequence", where the protocol
                               groups; a group's number is the mean of its sequences' means
  mean_over_<kind>s            the mean of the per-group numbers (HMR's "average over actions")
"""

import numpy as np

from hmr_tf import joints
from hmr_tf.evaluation import metrics


def score(predictions, protocol):
  """The results dict (see the module docstring) of one protocols.Protocol.

  Args:
    predictions: evaluate.Predictions of the split.
    protocol: a protocols.Protocol.

  Raises:
    ValueError if the protocol selects no example of the split.
  """
  selection = protocol.select(list(predictions.image_ids))
  mask = selection.mask
  if not mask.any():
    raise ValueError(f"protocol '{protocol.name}' selects none of the {len(mask)} examples of "
                     f"the split (e.g. '{predictions.image_ids[0]}')" if len(mask) else
                     f"protocol '{protocol.name}': the split has no examples")
  results = {"protocol": protocol.name, "examples": int(mask.sum())}
  per_joint = {name: {} for name in joints.LSP_14.names}

  has_3d = mask & np.all(np.isfinite(predictions.gt_joints), axis=(1, 2))
  if has_3d.any():
    errors = {"mpjpe": _errors_mm(predictions, has_3d, procrustes=False),
              "pa_mpjpe": _errors_mm(predictions, has_3d, procrustes=True)}
    results.update(_summary(errors, protocol.pck3d))
    results["mpjpe_median"] = float(np.median(errors["mpjpe"].mean(axis=1)))
    results["pa_mpjpe_median"] = float(np.median(errors["pa_mpjpe"].mean(axis=1)))
    results["examples_3d"] = int(has_3d.sum())
    for key, values in errors.items():
      for name, value in zip(joints.LSP_14.names, values.mean(axis=0)):
        per_joint[name][key] = float(value)
    if selection.groups is not None:
      results.update(_per_group(errors, selection, has_3d, protocol.pck3d))

  has_pve = mask & np.isfinite(predictions.pve_mm)
  if has_pve.any():
    results["pve"] = float(predictions.pve_mm[has_pve].mean())
    results["pve_median"] = float(np.median(predictions.pve_mm[has_pve]))
    results["examples_pve"] = int(has_pve.sum())

  if predictions.pred_keypoints2d is not None:
    gt = predictions.gt_keypoints2d[mask]
    correct = metrics.pck2d(predictions.pred_keypoints2d[mask], gt[..., :2], gt[..., 2] > 0)
    if np.isfinite(correct).any():
      results["pck2d"] = float(100.0 * np.nanmean(correct))
      for name, column in zip(joints.LSP_14.names, correct.T):
        if np.isfinite(column).any():
          per_joint[name]["pck2d"] = float(100.0 * np.nanmean(column))

  if any(per_joint.values()):
    results["per_joint"] = per_joint
  return results


def score_all(predictions, protocols):
  """The first protocol's results, with each further protocol's nested under its name."""
  results = score(predictions, protocols[0])
  for protocol in protocols[1:]:
    results[protocol.name] = score(predictions, protocol)
  return results


def flatten(results, prefix=""):
  """The numbers of a results dict as {"a/b/c": float}, e.g. for TensorBoard scalars."""
  flat = {}
  for key, value in results.items():
    if isinstance(value, dict):
      flat.update(flatten(value, f"{prefix}{key}/"))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
      flat[prefix + key] = float(value)
  return flat


def _errors_mm(predictions, rows, procrustes):
  """[n, 14] joint errors in mm of the chosen rows."""
  return metrics.joint_errors(predictions.pred_joints[rows] * 1000.0,
                              predictions.gt_joints[rows] * 1000.0, procrustes=procrustes)


def _summary(errors, pck3d):
  """Means (and 3DHP's PCK and AUC) of {"mpjpe": [n, 14], "pa_mpjpe": [n, 14]} errors."""
  summary = {key: float(values.mean()) for key, values in errors.items()}
  if pck3d:
    for prefix, values in (("", errors["mpjpe"]), ("pa_", errors["pa_mpjpe"])):
      summary[prefix + "pck"] = float(metrics.pck(values))
      summary[prefix + "auc"] = metrics.auc(values)
  return summary


def _per_group(errors, selection, rows, pck3d):
  """per_<kind> and mean_over_<kind>s: each group's mean of its sequences' summaries."""
  groups = selection.groups[rows]
  sequences = selection.sequences[rows] if selection.sequences is not None else groups
  order = list(selection.group_order)
  names = sorted(set(groups), key=lambda g: (order.index(g) if g in order else len(order), g))
  per_group = {}
  for group in names:
    in_group = groups == group
    summaries = [_summary({k: v[in_group & (sequences == s)] for k, v in errors.items()}, pck3d)
                 for s in sorted(set(sequences[in_group]))]
    per_group[group] = {k: float(np.mean([s[k] for s in summaries])) for k in summaries[0]}
    per_group[group]["examples"] = int(in_group.sum())
  kind = selection.group_kind
  keys = [k for k in next(iter(per_group.values())) if k != "examples"]
  return {f"per_{kind}": per_group,
          f"mean_over_{kind}s": {k: float(np.mean([g[k] for g in per_group.values()]))
                                 for k in keys}}
