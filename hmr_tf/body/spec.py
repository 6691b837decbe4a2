"""Body-model specs: the string that names a body model in configs, layer configs and flags.

  "free"                       the free body model, lite, neutral (the default)
  "free:<variant>"             e.g. "free:full" (neutral)
  "free:<variant>:<gender>"    e.g. "free:full:female"
  any other string             a body-model file, read by load_body_model

A free spec names the same arrays on every machine (hmr_tf.body.free.grid).
"""

from hmr_tf.body import free_body
from hmr_tf.body import model_files
from hmr_tf.body.body_model import BodyModel

FREE = "free"
FORMS = (f"'{FREE}', '{FREE}:<variant>' or '{FREE}:<variant>:<gender>' with <variant> one of "
         f"{free_body.VARIANTS} and <gender> one of {free_body.GENDERS}, or the path of a "
         f"body-model file")


def resolve(body_model, num_betas=10) -> BodyModel:
  """A BodyModel from a BodyModel or a spec string (see the module docstring).

  Args:
    body_model: a BodyModel (returned as it is: num_betas does not apply) or a spec string.
    num_betas: shape components to read from a file or a free model (the first ones).

  Raises:
    TypeError: neither a BodyModel nor a string.
    ValueError: a malformed free spec, or more betas than the model has.
  """
  if isinstance(body_model, BodyModel):
    return body_model
  if not isinstance(body_model, str):
    raise TypeError(f"expected a BodyModel or a spec string ({FORMS}), found "
                    f"{type(body_model).__name__}")
  free = parse_free(body_model)
  if free is not None:
    return free_body.free_body_model(*free, num_betas=num_betas)
  return model_files.load_body_model(body_model, num_betas=num_betas)


def parse_free(spec):
  """(variant, gender) of a free spec, None for any other string (a file path).

  Raises:
    ValueError: a string starting with "free:" that is no free spec.
  """
  name, *given = spec.split(":")
  if name != FREE:
    return None
  if len(given) > 2:
    raise ValueError(f"malformed body-model spec {spec!r}: expected {FORMS}")
  defaults = (free_body.DEFAULT_VARIANT, free_body.DEFAULT_GENDER)
  variant, gender = tuple(given) + defaults[len(given):]
  if variant not in free_body.VARIANTS or gender not in free_body.GENDERS:
    raise ValueError(f"malformed body-model spec {spec!r}: expected {FORMS}")
  return variant, gender
