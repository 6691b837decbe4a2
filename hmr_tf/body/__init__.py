"""The body model: files -> BodyModel (numpy) -> SMPL keras layer."""

from hmr_tf.body.body_model import BodyModel
from hmr_tf.body.model_files import load_body_model, save_body_model
from hmr_tf.body.smpl import SMPL
