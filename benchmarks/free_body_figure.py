"""Draws docs/free_body.png: the free body model in a few poses and shapes, with its keypoints.

  python benchmarks/free_body_figure.py [--output docs/free_body.png]

Drawn with hmr_tf's own headless renderer. The male and female models are built on first use
(hmr_tf.body.free_body: pip fetches the pinned wheel once).
"""

from absl import app
from absl import flags
import cv2
import numpy as np

from hmr_tf import render
from hmr_tf.body import SMPL
from hmr_tf.body import free_body_model
from hmr_tf.body import poses

_OUTPUT = flags.DEFINE_string("output", "docs/free_body.png", "Where to write the figure.")
_HEIGHT = 440  # pixels; panels are as wide as their body
_PIXELS_PER_METRE = 200.0
# Camera-frame rotations (x right, y down, z away): SMPL's body (y up, facing +z) seen from
# the front or from its right side.
_VIEWS = {"front": np.diag([1.0, -1.0, -1.0]),
          "side": np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])}


def panel(model, pose, beta0, view, title):
  """One rendered panel: the body at a fixed scale, feet on a common ground line."""
  betas = np.zeros((1, model.num_betas))
  betas[0, 0] = beta0
  out = SMPL(model)(pose[None], betas)
  vertices = out["vertices"][0].numpy() @ _VIEWS[view].T
  keypoints = out["keypoints"][0].numpy() @ _VIEWS[view].T
  height = _HEIGHT
  width = max(200, int(np.ptp(vertices[:, 0]) * _PIXELS_PER_METRE) + 30)
  lowest = vertices[:, 1].max()  # the feet (y is down)
  centre_x = (vertices[:, 0].min() + vertices[:, 0].max()) / 2
  camera = render.Camera(fx=_PIXELS_PER_METRE, fy=_PIXELS_PER_METRE,
                         cx=width / 2 - _PIXELS_PER_METRE * centre_x,
                         cy=height - 40 - _PIXELS_PER_METRE * lowest, orthographic=True)
  image, _ = render.render(vertices, model.faces, camera, (height, width),
                           background=np.full((height, width, 3), 255, np.uint8),
                           color=(0.85, 0.78, 0.72))
  image = render.draw_keypoints(image, np.concatenate(
      [camera.project(keypoints), np.ones((len(keypoints), 1))], axis=1), color=(200, 30, 60),
                                radius=2, thickness=-1)
  stature = np.ptp(out["vertices"][0].numpy()[:, 1])
  for row, text in enumerate([title, f"{model.num_vertices} vertices, {stature:.2f} m"]):
    cv2.putText(image, text, (8, 18 + 16 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1,
                cv2.LINE_AA)
  return image


def main(argv):
  del argv
  lite = free_body_model("lite", "neutral")
  panels = [  # (model, pose, β0, view, title)
      (lite, poses.REST, 0.0, "front", "rest (T-pose)"),
      (lite, poses.WALKING, 0.0, "front", "walking"),
      (lite, poses.WALKING, 0.0, "side", "walking, side"),
      (lite, poses.REST, -2.0, "front", "beta0 = -2"),
      (lite, poses.REST, 2.0, "front", "beta0 = +2"),
      (free_body_model("lite", "female"), poses.WALKING, 0.0, "front", "female"),
      (free_body_model("lite", "male"), poses.WALKING, 0.0, "front", "male"),
      (free_body_model("full", "neutral"), poses.WALKING, 0.0, "front", "full, neutral"),
  ]
  figure = np.concatenate([panel(*p) for p in panels], axis=1)
  cv2.imwrite(_OUTPUT.value, cv2.cvtColor(figure, cv2.COLOR_RGB2BGR))
  print(f"wrote {_OUTPUT.value}: red dots are the cocoplus-19 keypoints")


if __name__ == "__main__":
  app.run(main)
