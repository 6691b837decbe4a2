"""The quickstart's synthetic benchmark, as the scripts that study it take it: one --output flag
naming hmr-quickstart's folder, and its config and folders (rendered where missing)."""

from hmr_tf.cli import quickstart
from hmr_tf.synth import benchmark


def add_output_flag(parser):
  parser.add_argument("--output", default="demo_output",
                      help="the benchmark's root (hmr-quickstart's --output); written if absent")


def load(output):
  """(configs/quickstart.py pointed at `output`, its benchmark.Folders), rendering the
  benchmark where it is missing."""
  config = quickstart.load_config(quickstart.Paths(output))
  return config, benchmark.write_benchmark(output, "free", config.model.image_size)
