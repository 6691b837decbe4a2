"""Command-line tools, one absl app per job (also `python -m hmr_tf.cli.<name>`)."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) buries the tools' own output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
