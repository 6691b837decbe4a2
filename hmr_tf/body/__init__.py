"""The body model: files -> BodyModel (numpy) -> SMPL keras layer.

SMPL is imported on first use, so that the numpy-only parts (reading and converting model
files, building the free body model) start without loading TensorFlow.
"""

from hmr_tf.body.body_model import BodyModel
from hmr_tf.body.free_body import free_body_model
from hmr_tf.body.model_files import load_body_model, save_body_model


def __getattr__(name):
  if name == "SMPL":
    from hmr_tf.body.smpl import SMPL  # pylint: disable=import-outside-toplevel
    return SMPL
  raise AttributeError(f"module 'hmr_tf.body' has no attribute '{name}'")
