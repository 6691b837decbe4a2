"""What hmr-evaluate shows and writes: tables, metrics.json, the per-joint plot, predictions.npz.

All files are written atomically (hmr_tf.atomic).
"""

import json
import os

import cv2
import numpy as np

from hmr_tf import atomic

METRICS_FILE = "metrics.json"
PLOT_FILE = "per_joint.png"
PREDICTIONS_FILE = "predictions.npz"

_HEADLINE = (("mpjpe", "MPJPE", "mm"), ("mpjpe_median", "median", "mm"),
             ("pa_mpjpe", "PA-MPJPE", "mm"), ("pa_mpjpe_median", "median", "mm"),
             ("pck", "PCK@150mm", "%"), ("auc", "AUC", "%"), ("pa_pck", "PA-PCK", "%"),
             ("pa_auc", "PA-AUC", "%"), ("pve", "PVE", "mm"), ("pve_median", "median", "mm"),
             ("pck2d", "2D PCK@0.2", "%"))
_COLUMNS = dict((key, header) for key, header, _ in _HEADLINE)
_BAR_COLORS = ((200, 120, 40), (40, 140, 230), (60, 170, 60))  # BGR, one per plotted metric


def tables(results):
  """The results as text: headline numbers, then per-joint and per-group tables, per protocol."""
  lines = [f"protocol {results['protocol']}: {results['examples']} examples"]
  lines.append("  " + "  ".join(f"{header} {results[key]:.2f}{unit}"
                                for key, header, unit in _HEADLINE if key in results))
  for key, value in results.items():
    if key == "per_joint":
      lines += _table("joint", value)
    elif key.startswith("per_"):
      lines += _table(key[len("per_"):], value)
      mean_key = f"mean_over_{key[len('per_'):]}s"
      lines.append(f"  mean over the {key[len('per_'):]}s: " + "  ".join(
          f"{_COLUMNS.get(k, k)} {v:.2f}" for k, v in results[mean_key].items()))
  text = "\n".join(lines)
  nested = [tables(v) for v in results.values() if isinstance(v, dict) and "protocol" in v]
  return "\n\n".join([text] + nested)


def _table(what, rows):
  """Markdown lines of {row name: {metric: value}}, one column per metric present."""
  keys = [k for k in _COLUMNS if any(k in row for row in rows.values())]
  counts = any("examples" in row for row in rows.values())
  header = [what] + [_COLUMNS[k] for k in keys] + (["examples"] if counts else [])
  lines = ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for name, row in rows.items():
    cells = [name] + [f"{row[k]:.2f}" if k in row else "" for k in keys]
    lines.append("| " + " | ".join(cells + ([str(row["examples"])] if counts else [])) + " |")
  return lines


def write(output_dir, results, predictions=None):
  """metrics.json and per_joint.png, and predictions.npz where predictions are given.

  Returns:
    The paths written.
  """
  os.makedirs(output_dir, exist_ok=True)
  paths = [os.path.join(output_dir, METRICS_FILE)]
  with atomic.atomic_write(paths[0], "w") as f:
    json.dump(results, f, indent=2)
  plot = per_joint_plot(results)
  if plot is not None:
    paths.append(os.path.join(output_dir, PLOT_FILE))
    ok, png = cv2.imencode(".png", plot)
    if not ok:
      raise RuntimeError("cv2 could not encode the per-joint plot as PNG")
    with atomic.atomic_write(paths[-1]) as f:
      f.write(png.tobytes())
  if predictions is not None:
    paths.append(os.path.join(output_dir, PREDICTIONS_FILE))
    write_predictions(paths[-1], predictions)
  return paths


def write_predictions(path, predictions):
  """predictions.npz: enough to recompute any metric.

  image_ids [N] str, dataset str, pred_joints and gt_joints [N, 14, 3] metres (gt NaN where
  there is none), pve_mm [N] (NaN where not scored), gt_keypoints2d [N, 14, 3] and, where the
  model gives them, pred_keypoints2d [N, 14, 2], both in [-1, 1] of the crop. float32, which
  loses nothing: the model, the stored labels and the SMPL layer are all float32.
  """
  arrays = {"image_ids": predictions.image_ids, "dataset": np.array(predictions.dataset)}
  for name in ("pred_joints", "gt_joints", "pve_mm", "gt_keypoints2d", "pred_keypoints2d"):
    value = getattr(predictions, name)
    if value is not None:
      arrays[name] = value.astype(np.float32)
  with atomic.atomic_write(path) as f:
    np.savez(f, **arrays)


def per_joint_plot(results, width=760, row_height=34):
  """A bar chart [H, W, 3] (BGR uint8) of the per-joint errors (mm), or of the per-joint 2D PCK
  (%) where the split has no 3D ground truth; None where there is neither."""
  per_joint = results.get("per_joint", {})
  keys = [k for k in ("mpjpe", "pa_mpjpe") if any(k in row for row in per_joint.values())]
  unit = "mm"
  if not keys:
    keys, unit = [k for k in ("pck2d",) if any(k in row for row in per_joint.values())], "%"
  if not keys:
    return None
  label_width, margin, top = 150, 60, 50
  values = np.array([[row.get(k, 0.0) for k in keys] for row in per_joint.values()])
  scale = (width - label_width - margin) / max(float(values.max()), 1e-9)
  image = np.full((top + row_height * len(per_joint) + 20, width, 3), 255, np.uint8)
  font = cv2.FONT_HERSHEY_SIMPLEX
  what = "error (mm)" if unit == "mm" else "2D PCK (%)"
  cv2.putText(image, f"{results['protocol']}: per-joint {what}", (10, 25), font, 0.55,
              (0, 0, 0), 1, cv2.LINE_AA)
  for j, key in enumerate(keys):  # the legend: a swatch in each bar's colour
    x = width - 130 * (len(keys) - j)
    cv2.rectangle(image, (x, 14), (x + 14, 28), _BAR_COLORS[j], -1)
    cv2.putText(image, _COLUMNS[key], (x + 20, 26), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
  bar = (row_height - 8) // len(keys)
  for i, (name, row_values) in enumerate(zip(per_joint, values)):
    y = top + i * row_height
    cv2.putText(image, name, (10, y + row_height // 2 + 4), font, 0.45, (0, 0, 0), 1,
                cv2.LINE_AA)
    for j, value in enumerate(row_values):
      y0 = y + 4 + j * bar
      x1 = label_width + int(round(value * scale))
      cv2.rectangle(image, (label_width, y0), (x1, y0 + bar - 2), _BAR_COLORS[j], -1)
      cv2.putText(image, f"{value:.1f}", (x1 + 4, y0 + bar - 4), font, 0.35, (0, 0, 0), 1,
                  cv2.LINE_AA)
  return image
