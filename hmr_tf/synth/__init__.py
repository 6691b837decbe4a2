"""The synthetic world: a body model rendered in random poses and shapes, with full ground truth.

  hmr-synth --num 10000 --image_size 128 --output datasets/synth

poses.py samples poses within joint limits (or draws them from mocap shards), scene.py frames
the body and picks its look, backgrounds.py draws what is behind it, and generate.py puts one
sample together as a schema.PersonExample, and split.py writes a rendered split to disk.
"""

from hmr_tf.synth.generate import DEFAULT_BODY_MODELS
from hmr_tf.synth.generate import Sample
from hmr_tf.synth.generate import SynthWorld
