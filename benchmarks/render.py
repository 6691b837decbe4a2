"""Headless renderer speed on this machine: frames/s for an SMPL-sized mesh at 512² and 128².

  python benchmarks/render.py [--frames 100]

The mesh is closed, with SMPL's 6,890 vertices and 13,776 faces, shaped like a standing body
(1.7 m tall, about 0.5 m wide, bumpy so that it hides parts of itself), turning a little every
frame. Rasterization cost follows the face count and the covered pixels, not the body's exact
shape. Prints a markdown table.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(REPO, "tests"))
import meshes  # pylint: disable=wrong-import-position

import machine  # pylint: disable=wrong-import-position  (benchmarks/machine.py, beside this script)
from hmr_tf import render  # pylint: disable=wrong-import-position

# (image side, camera distance in metres): the body at 80% of the image height, and a close-up
# that fills the frame, the worst case for shading.
VIEWS = ((512, 3.0), (512, 0.8), (128, 3.0))


def body_like_mesh():
  """[6890, 3] vertices and [13776, 3] faces: a bumpy ellipsoid standing along y, in metres."""
  vertices, faces = meshes.uv_sphere(82, 85)
  polar = np.arccos(np.clip(vertices[:, 1], -1.0, 1.0))
  azimuth = np.arctan2(vertices[:, 2], vertices[:, 0])
  bumps = 1.0 + 0.15 * np.sin(6 * polar) * np.sin(3 * azimuth)
  return vertices * bumps[:, None] * [0.25, 0.85, 0.15], faces


def turning(vertices, count, distance):
  """count copies of the mesh turned about the vertical axis, `distance` in front of the camera."""
  result = []
  for angle in np.linspace(0.0, 2 * np.pi, count, endpoint=False):
    c, s = np.cos(angle), np.sin(angle)
    turn = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    result.append(vertices @ turn.T + [0.0, 0.0, distance])
  return result


def camera_for(size):
  # A 1.7 m body 3 m away spans 80% of the image height.
  focal = 0.8 * size * 3.0 / 1.7
  return render.Camera(focal, focal, (size - 1) / 2, (size - 1) / 2)


def frames_per_second(draw, posed):
  start = time.perf_counter()
  for vertices in posed:
    draw(vertices)
  return len(posed) / (time.perf_counter() - start)


def first_call_seconds(cache_dir=None):
  """Seconds of a new process's first render call: numba's import, then compiling both kernels
  (a fresh cache_dir) or loading them from numba's cache (the default)."""
  code = ("import time; from hmr_tf import render; start = time.perf_counter(); "
          "render.render([[0, 0, 1.0], [1, 0, 1], [0, 1, 1]], [[0, 1, 2]], "
          "render.Camera(1.0, 1.0, 0.0, 0.0), (4, 4)); print(time.perf_counter() - start)")
  env = dict(os.environ, **({"NUMBA_CACHE_DIR": cache_dir} if cache_dir else {}))
  result = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, check=True,
                          capture_output=True, text=True)
  return float(result.stdout)




def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--frames", type=int, default=100)
  args = parser.parse_args()
  vertices, faces = body_like_mesh()
  with tempfile.TemporaryDirectory() as empty_cache:
    compiling = first_call_seconds(empty_cache)
  first_call_seconds()  # fills numba's cache where this checkout has none yet
  cached = first_call_seconds()

  print(f"Headless renderer, V={len(vertices)}, F={len(faces)}, {args.frames} frames — "
        f"{machine.describe(numba, np)}\n")
  print(f"First render call of a process: {compiling:.2f} s compiling the kernels (once per "
        f"machine), {cached:.2f} s loading them from numba's cache (numba's import included)\n")
  print("| image | covered | rasterize (frames/s) | render: + shading, composite (frames/s) |")
  print("|---|---:|---:|---:|")
  for size, distance in VIEWS:
    camera = camera_for(size)
    posed = turning(vertices, args.frames, distance)
    background = np.full((size, size, 3), 90, np.uint8)
    covered = render.rasterize(posed[0], faces, camera, (size, size)).mask.mean()
    raster = frames_per_second(lambda v: render.rasterize(v, faces, camera, (size, size)), posed)
    shaded = frames_per_second(
        lambda v: render.render(v, faces, camera, background=background), posed)
    print(f"| {size}×{size} | {covered:.0%} | {raster:.0f} | {shaded:.0f} |", flush=True)


if __name__ == "__main__":
  main()
