"""hmr-quickstart: the embedded default, end to end, on a laptop CPU.

  hmr-quickstart --output demo_output [--body_model free]

Today: loads the default body model (the free CC0 body unless --body_model names an SMPL
file), poses it with the SMPL layer in the rest pose and in a walking pose, and writes both
meshes as .obj with a summary of the body's measurements.
"""

import os

from absl import app
from absl import flags
from absl import logging
import numpy as np

from hmr_tf import joints
from hmr_tf import mesh_io
from hmr_tf.body import SMPL

_OUTPUT = flags.DEFINE_string("output", "demo_output", "Directory for the results.")
_BODY_MODEL = flags.DEFINE_string(
    "body_model", "free", "Body model: 'free', 'free:<variant>:<gender>' or an SMPL file.")


def walking_pose():
  """[72] axis-angle: mid-stride, arms down and swinging (a fixed pose for demos and checks)."""
  pose = np.zeros((len(joints.SMPL_24), 3))
  index = joints.SMPL_24.index
  pose[index("left_hip")] = [-0.5, 0.0, 0.0]  # left thigh forward
  pose[index("right_hip")] = [0.35, 0.0, 0.0]  # right thigh back
  pose[index("left_knee")] = [0.3, 0.0, 0.0]
  pose[index("right_knee")] = [0.6, 0.0, 0.0]
  pose[index("left_shoulder")] = [0.0, 0.0, -1.2]  # arms down from the T-pose
  pose[index("right_shoulder")] = [0.0, 0.0, 1.2]
  pose[index("left_elbow")] = [0.0, -0.4, 0.0]
  pose[index("right_elbow")] = [0.0, 0.4, 0.0]
  return pose.reshape(-1)


def main(argv):
  del argv
  smpl = SMPL(_BODY_MODEL.value)
  poses = {"rest": np.zeros(72), "walking": walking_pose()}
  out = smpl(np.stack(list(poses.values())), np.zeros((len(poses), smpl.num_betas)))
  os.makedirs(_OUTPUT.value, exist_ok=True)
  for i, name in enumerate(poses):
    path = os.path.join(_OUTPUT.value, f"body_{name}.obj")
    mesh_io.write_obj(path, out["vertices"][i].numpy(), smpl.faces)
    logging.info("wrote %s", path)
  rest = out["vertices"][0].numpy()
  print(f"body model {smpl.body_model}: {rest.shape[0]} vertices, {len(smpl.faces)} faces, "
        f"height {np.ptp(rest[:, 1]):.3f} m at β = 0; meshes in {_OUTPUT.value}/")


def run():
  app.run(main)


if __name__ == "__main__":
  run()
