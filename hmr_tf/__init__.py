"""hmr_tf: End-to-end Recovery of Human Shape and Pose (HMR) in TensorFlow 2 / Keras 3."""

__version__ = "0.1.0"
