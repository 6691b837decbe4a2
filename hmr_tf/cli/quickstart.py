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

from hmr_tf import mesh_io
from hmr_tf.body import SMPL
from hmr_tf.body import poses

_OUTPUT = flags.DEFINE_string("output", "demo_output", "Directory for the results.")
_BODY_MODEL = flags.DEFINE_string(
    "body_model", "free", "Body model: 'free', 'free:<variant>:<gender>' or an SMPL file.")


def main(argv):
  del argv
  smpl = SMPL(_BODY_MODEL.value)
  named = {"rest": poses.REST, "walking": poses.WALKING}
  out = smpl(np.stack(list(named.values())), np.zeros((len(named), smpl.num_betas)))
  os.makedirs(_OUTPUT.value, exist_ok=True)
  for i, name in enumerate(named):
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
