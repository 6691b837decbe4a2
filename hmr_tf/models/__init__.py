"""HMR's networks: image encoders, the iterative regressor, the discriminator, the HMR model."""

from hmr_tf.models.discriminator import Discriminator
from hmr_tf.models.encoders import build_encoder
from hmr_tf.models.hmr import HMR
from hmr_tf.models.regressor import IterativeRegressor
