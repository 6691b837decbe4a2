"""Training speed on this machine: the whole HMR step against a bare encoder step.

  python benchmarks/train_step.py [--steps 30] [--batch 8] [--gpu_batch 64]

"HMR step" is hmr-train's step (hmr_tf.training.step) with configs/paper.py: ResNet-50 v2 at
224, T = 3 regressor iterations, SMPL in the official layout (a random body model with
V = 6890 and pose correctives, as the licensed file has), the 25-output discriminator on the
3B mocap and 3B predicted poses, and both Adams. "Bare step" is the same ResNet-50 v2 with a
Dense(85) head, an MSE loss and one Adam. Each case runs in its own process on one fixed random
batch (no input pipeline), fetching its losses after every step as hmr-train does. Also
configs/quickstart.py's step, and where a GPU is present the paper step at --gpu_batch with and
without mixed precision and XLA. Prints a markdown table: images/s from the median time of a
step, and the process's peak memory (resident set on the CPU; the GPU's own peak on a GPU);
then the ratio of the two steps' times and CPU times, measured again with both in one process,
one step of each in turn (the CPU time is the robust figure on a machine shared with other
work).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

import machine  # pylint: disable=wrong-import-position  (benchmarks/machine.py, beside this script)

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(REPO, "tests"))


def _config(name, batch, body_model, mixed_precision=False, jit_compile=False):
  import training_world  # pylint: disable=import-outside-toplevel  (tests/, the config loader)
  config = training_world.config_file(name)
  config.train.batch_size = batch
  config.train.mixed_precision = mixed_precision
  config.train.jit_compile = jit_compile
  config.model.encoder_weights = ""
  if body_model:
    config.model.body_model = body_model
  return config


def _batch(config, with_3d=True):
  """A random (person, mocap) batch shaped as hmr_tf.data.pipeline.train_dataset's."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  rng = np.random.default_rng(0)
  b, size = config.train.batch_size, config.model.image_size
  def tensor(*shape, scale=1.0):
    return tf.constant(rng.normal(scale=scale, size=shape), tf.float32)
  flag = tf.constant(np.full(b, float(with_3d)), tf.float32)
  keypoints = np.concatenate([rng.uniform(-1, 1, (b, 19, 2)), np.ones((b, 19, 1))], -1)
  person = {"image": tf.clip_by_value(tensor(b, size, size, 3, scale=0.5), -1.0, 1.0),
            "keypoints2d": tf.constant(keypoints, tf.float32),
            "keypoints3d": tensor(b, 14, 3, scale=0.3), "has_3d": flag,
            "pose": tensor(b, 72, scale=0.3), "shape": tensor(b, 10), "has_smpl": flag}
  mocap = {"pose": tensor(3 * b, 72, scale=0.3), "shape": tensor(3 * b, 10)}
  return person, mocap


def _hmr_step(config):
  """hmr-train's step function and its batch."""
  import keras  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from hmr_tf.models import Discriminator  # pylint: disable=import-outside-toplevel
  from hmr_tf.training import step as step_lib  # pylint: disable=import-outside-toplevel
  from hmr_tf.training import workdir  # pylint: disable=import-outside-toplevel
  if config.train.mixed_precision:
    keras.mixed_precision.set_global_policy("mixed_float16")
  model = workdir.build_model(config)
  discriminator = Discriminator()
  optimizers = step_lib.make_optimizers(config, model, discriminator)
  train_step = step_lib.make_train_step(tf.distribute.get_strategy(), model, discriminator,
                                        optimizers, config)
  batch = _batch(config)
  return lambda: train_step(batch)["loss/encoder"].numpy()


def _bare_step(config):
  """The same encoder with a plain regression head and one Adam."""
  import keras  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from hmr_tf.models import build_encoder  # pylint: disable=import-outside-toplevel
  if config.train.mixed_precision:
    keras.mixed_precision.set_global_policy("mixed_float16")
  encoder = build_encoder(config.model.encoder, config.model.image_size)
  head = keras.layers.Dense(85, dtype="float32")
  head.build(encoder.output.shape)
  variables = encoder.trainable_variables + head.trainable_variables
  optimizer = keras.optimizers.Adam(config.train.encoder_lr)
  if config.train.mixed_precision:
    optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
  optimizer.build(variables)
  images = _batch(config)[0]["image"]
  targets = tf.zeros([config.train.batch_size, 85])

  @tf.function(jit_compile=config.train.jit_compile)
  def step():
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(tf.square(head(encoder(images, training=True)) - targets))
      scaled = optimizer.scale_loss(loss)
    optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
    return loss
  return lambda: step().numpy()


def run_case(case):
  """In this process: images/s (the batch over the median time of a step) and peak memory of
  one case, or with "pair", of the bare and the HMR step timed in alternation, one step each in
  turn, so that the load of a shared machine weighs on both alike."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  config = _config(case["config"], case["batch"], case["body_model"], case["mixed_precision"],
                   case["jit_compile"])
  kinds = ("bare", "hmr") if case["step"] == "pair" else (case["step"],)
  steps = {kind: (_hmr_step if kind == "hmr" else _bare_step)(config) for kind in kinds}
  seconds = {kind: [] for kind in kinds}
  cpu_seconds = {kind: [] for kind in kinds}
  for step in steps.values():
    for _ in range(2):  # trace, compile and warm up
      step()
  for _ in range(case["steps"]):
    for kind, step in steps.items():
      start, cpu_start = time.perf_counter(), time.process_time()
      step()
      seconds[kind].append(time.perf_counter() - start)
      cpu_seconds[kind].append(time.process_time() - cpu_start)
  if tf.config.list_physical_devices("GPU"):
    peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**30
  else:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
  return {"images_per_second": {k: case["batch"] / float(np.median(t))
                                for k, t in seconds.items()},
          "cpu_seconds": {k: float(np.median(t)) for k, t in cpu_seconds.items()},
          "peak_gib": peak}


def _in_subprocess(case):
  result = subprocess.run([sys.executable, __file__, "--case", json.dumps(case)],
                          capture_output=True, text=True, check=False)
  if result.returncode:
    raise RuntimeError(f"case {case} failed:\n{result.stderr[-3000:]}")
  return json.loads(result.stdout.strip().splitlines()[-1])


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=30, help="timed steps of each case")
  parser.add_argument("--batch", type=int, default=8, help="batch of the CPU cases")
  parser.add_argument("--gpu_batch", type=int, default=64)
  parser.add_argument("--case", help=argparse.SUPPRESS)  # one case, in a child process
  args = parser.parse_args()
  if args.case:
    print(json.dumps(run_case(json.loads(args.case))))
    return

  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from hmr_tf.body import save_body_model  # pylint: disable=import-outside-toplevel
  import smpl_files  # pylint: disable=import-outside-toplevel  (tests/: SMPL-layout arrays)
  gpu = bool(tf.config.list_physical_devices("GPU"))
  with tempfile.TemporaryDirectory() as root:
    smpl = os.path.join(root, "smpl_layout.npz")
    save_body_model(smpl_files.random_body_model(), smpl)
    common = {"steps": args.steps, "mixed_precision": False, "jit_compile": False}
    rows = [("bare step: ResNet-50 v2 + Dense(85), one Adam", "paper", "bare", args.batch, None),
            ("HMR step, configs/paper.py (SMPL layout, V=6890)", "paper", "hmr", args.batch,
             smpl),
            ("HMR step, configs/quickstart.py (small encoder, 64 px, free body)", "quickstart",
             "hmr", 16, None)]
    cases = [dict(common, config=c, step=s, batch=b, body_model=m) for _, c, s, b, m in rows]
    if gpu:
      for mixed, xla in ((False, False), (True, False), (False, True), (True, True)):
        flags = ", ".join(name for name, on in (("mixed_float16", mixed), ("XLA", xla)) if on)
        for step, label in (("bare", "bare step"), ("hmr", "HMR step, configs/paper.py")):
          rows.append((f"{label}{', ' + flags if flags else ''}", "paper", step,
                       args.gpu_batch, smpl if step == "hmr" else None))
          cases.append(dict(common, config="paper", step=step, batch=args.gpu_batch,
                            body_model=smpl if step == "hmr" else None, mixed_precision=mixed,
                            jit_compile=xla))
    results = [_in_subprocess(case) for case in cases]
    pair = _in_subprocess(dict(cases[1], step="pair"))

  device = "GPU" if gpu else "CPU"
  print(f"Training step, median time of {args.steps} steps on one fixed batch "
        f"— {machine.describe(tf)}, {device}\n")
  print(f"| step | batch | images/s | peak memory (GiB, {'GPU' if gpu else 'RSS'}) |")
  print("|---|---:|---:|---:|")
  for (label, _, step, batch, _), result in zip(rows, results):
    print(f"| {label} | {batch} | {result['images_per_second'][step]:.2f} | "
          f"{result['peak_gib']:.2f} |")
  rates, cpu = pair["images_per_second"], pair["cpu_seconds"]
  print(f"\nHMR step / bare step at batch {args.batch}, one step of each in turn in one process "
        f"(target: at most +15%):")
  print(f"  time: {rates['bare'] / rates['hmr']:.3f} ({rates['bare']:.2f} and "
        f"{rates['hmr']:.2f} images/s)")
  print(f"  CPU time of the process (which other processes' load does not lengthen): "
        f"{cpu['hmr'] / cpu['bare']:.3f} ({cpu['bare']:.2f} and {cpu['hmr']:.2f} s per step)")


if __name__ == "__main__":
  main()
