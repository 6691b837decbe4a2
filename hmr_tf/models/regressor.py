"""HMR's iterative error feedback: Θ_{t+1} = Θ_t + f([φ, Θ_t]), from a trainable mean Θ₀."""

import keras
import tensorflow as tf

from hmr_tf import theta as theta_lib
from hmr_tf.body import mean_params as mean_params_lib


@keras.saving.register_keras_serializable(package="hmr_tf")
class IterativeRegressor(keras.layers.Layer):
  """HMR's regressor (src/models.py Encoder_fc3_dropout, looped in src/trainer.py).

  f = Dense 1024 (ReLU) → Dropout → Dense 1024 (ReLU) → Dropout → Dense 85, the last layer
  initialised with VarianceScaling(0.01, fan_avg, uniform) (HMR's "small xavier") so that the
  first updates are small; the same f serves every iteration. Θ₀ is a trainable weight
  ("mean_theta", HMR's "mean_param") initialised from the mean parameters. The layer always
  computes in float32, also under a mixed-precision policy, so that Θ accumulates in float32.

  Args:
    num_iterations: T, the number of updates (3 in HMR).
    dropout: the dropout rate after each hidden layer (0.5 in HMR).
    hidden_units: width of the two hidden layers (1024 in HMR).
    mean_params: path of HMR's .h5 or SPIN's .npz mean parameters, or None for the built-in
      default (hmr_tf.body.mean_params.load_mean_params). Read when the layer is created; a
      layer rebuilt from its config (or a .keras file) takes Θ₀ from its saved weights.

  Call arguments:
    features: [B, F] image features φ (any float dtype).
    training: whether dropout is active.

  Returns:
    [B, T, 85]: Θ after each update (Θ₁ … Θ_T; Θ₀ itself is `mean_theta`).

  Example:
    >>> regressor = IterativeRegressor(num_iterations=3)
    >>> regressor(tf.zeros([2, 256])).shape
    TensorShape([2, 3, 85])
  """

  def __init__(self, num_iterations=3, dropout=0.5, hidden_units=1024, mean_params=None,
               **kwargs):
    kwargs.pop("dtype", None)  # always float32 (a saved config repeats it)
    super().__init__(dtype="float32", **kwargs)
    if num_iterations < 1:
      raise ValueError(f"num_iterations should be >= 1. Received: {num_iterations}")
    self.num_iterations = num_iterations
    self.dropout = dropout
    self.hidden_units = hidden_units
    self.mean_params = mean_params
    self.fc1 = keras.layers.Dense(hidden_units, activation="relu", dtype="float32", name="fc1")
    self.dropout1 = keras.layers.Dropout(dropout, name="dropout1")
    self.fc2 = keras.layers.Dense(hidden_units, activation="relu", dtype="float32", name="fc2")
    self.dropout2 = keras.layers.Dropout(dropout, name="dropout2")
    self.fc3 = keras.layers.Dense(
        theta_lib.SIZE, dtype="float32", name="fc3",
        kernel_initializer=keras.initializers.VarianceScaling(0.01, "fan_avg", "uniform"))
    initial = mean_params_lib.load_mean_params(mean_params)
    self.mean_theta = self.add_weight(
        name="mean_theta", shape=(theta_lib.SIZE,), trainable=True,
        initializer=lambda shape, dtype: tf.constant(initial, dtype=dtype))

  def build(self, features_shape):
    state_size = features_shape[-1] + theta_lib.SIZE
    self.fc1.build((None, state_size))
    self.fc2.build((None, self.hidden_units))
    self.fc3.build((None, self.hidden_units))

  def call(self, features, training=None):
    features = tf.cast(features, tf.float32)
    theta = tf.tile(self.mean_theta[None], [tf.shape(features)[0], 1])
    thetas = []
    for _ in range(self.num_iterations):
      hidden = self.dropout1(self.fc1(tf.concat([features, theta], axis=-1)), training=training)
      hidden = self.dropout2(self.fc2(hidden), training=training)
      theta = theta + self.fc3(hidden)
      thetas.append(theta)
    return tf.stack(thetas, axis=1)

  def get_config(self):
    config = super().get_config()
    config.update(num_iterations=self.num_iterations, dropout=self.dropout,
                  hidden_units=self.hidden_units, mean_params=self.mean_params)
    return config

  @classmethod
  def from_config(cls, config):
    # Θ₀ comes back with the weights; the mean-parameters file may not exist where it loads.
    return cls(**dict(config, mean_params=None))
