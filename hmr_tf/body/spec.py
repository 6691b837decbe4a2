"""Body-model specs: the string that names a body model in configs, layer configs and flags.

  "free"                       the free body model, lite, neutral (the default)
  "free:<variant>:<gender>"    e.g. "free:full:female"
  any other string             a body-model file, read by load_body_model
"""

from hmr_tf.body import free_body
from hmr_tf.body import model_files
from hmr_tf.body.body_model import BodyModel

FREE = "free"


def resolve(body_model, num_betas=10) -> BodyModel:
  """A BodyModel from a BodyModel (returned as is) or a spec string (see the module docstring)."""
  if isinstance(body_model, BodyModel):
    return body_model
  if not isinstance(body_model, str):
    raise TypeError(f"expected a BodyModel or a spec string, found {type(body_model).__name__}")
  if body_model == FREE or body_model.startswith(FREE + ":"):
    parts = body_model.split(":")[1:]
    return free_body.free_body_model(*parts)
  return model_files.load_body_model(body_model, num_betas=num_betas)

