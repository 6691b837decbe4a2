"""The synthetic world: sample index -> a rendered person with complete ground truth.

Every sample is drawn from its own numpy Generator seeded with (seed, index), so a sample does
not depend on which others are made, in which order, or by how many workers. The SMPL forward
pass runs on aligned chunks of CHUNK_SIZE consecutive indices at once (one call per body model),
whoever asks for them, so that even its floating-point rounding is the same in every run.
"""

import dataclasses
import functools

import numpy as np

from hmr_tf import joints
from hmr_tf import render
from hmr_tf import theta
from hmr_tf.body import SMPL
from hmr_tf.body import spec
from hmr_tf.data import schema
from hmr_tf.datasets import person_crop
from hmr_tf.synth import backgrounds
from hmr_tf.synth import poses
from hmr_tf.synth import scene

DATASET = "synth"
CHUNK_SIZE = 32
# The free body model's three genders, so that the people vary; lite keeps rendering fast.
DEFAULT_BODY_MODELS = ("free:lite:neutral", "free:lite:male", "free:lite:female")
SHAPE_CLIP = 3.0  # betas ~ N(0, I) cut at ±3σ: beyond that the blend shapes leave human range
_NUM_LSP = len(joints.LSP_14)  # cocoplus starts with the 14 body joints; 5 face points follow


@dataclasses.dataclass(frozen=True)
class Sample:
  """What is drawn for one synthetic image, before the body is posed."""

  body: int  # index into the world's body models
  pose: np.ndarray  # [72] SMPL axis-angle, root in the camera frame
  shape: np.ndarray  # [10] betas
  focal: float  # pixels
  size: float  # target keypoint bounding-box diagonal, pixels
  center: np.ndarray  # [2] target keypoint bounding-box centre, pixels
  look: scene.Look


@dataclasses.dataclass(frozen=True)
class _Body:
  """One body model as the world uses it."""

  smpl: SMPL
  faces: np.ndarray  # [F, 3]
  skinning_weights: np.ndarray  # [V, 24]
  hair: np.ndarray  # [V] hair weight


class SynthWorld:
  """Random people rendered over random backgrounds, with their ground truth.

  Call it with a sample index for that sample's tf.train.Example list (the make_examples of
  hmr_tf.data.shards.write_split; the world pickles without its loaded state).

  Args:
    body_models: BodyModels or spec strings ("free", "free:<variant>:<gender>", a file); each
      sample picks one at random. Each needs 10 betas and a cocoplus regressor.
    image_size: side of the square images, pixels.
    seed: the world's seed; (seed, index) fixes a sample.
    mocap: a mocap shard directory (hmr_tf.datasets.mocap) to draw poses from; None samples
      them within joint limits (hmr_tf.synth.poses).
    backgrounds: a folder of background photos, or None for procedural backgrounds only.

  Example:
    >>> world = SynthWorld(["free"], image_size=128)
    >>> person = world.person(0)  # schema.PersonExample
    >>> person.keypoints2d.shape
    (19, 3)
  """

  def __init__(self, body_models=DEFAULT_BODY_MODELS, image_size=128, seed=0, mocap=None,
               backgrounds=None):
    if isinstance(body_models, str) or not body_models:
      raise ValueError(f"Expected body_models as a non-empty list of body models or spec "
                       f"strings. Received: body_models={body_models!r}")
    if not isinstance(image_size, (int, np.integer)) or image_size < 16:
      raise ValueError(f"Expected image_size as an int of at least 16 pixels. "
                       f"Received: image_size={image_size!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
      raise ValueError(f"Expected seed as a non-negative int. Received: seed={seed!r}")
    self.body_models = list(body_models)
    self.image_size = int(image_size)
    self.seed = int(seed)
    self.mocap = mocap
    self.backgrounds = backgrounds
    self._loaded = None  # (bodies, mocap poses, photos), loaded in the process that uses them
    self._chunk = None  # (chunk index, samples, posed vertices, posed keypoints)

  def __getstate__(self):
    return {**self.__dict__, "_loaded": None, "_chunk": None}

  def __call__(self, index):
    return [schema.person_example(self.person(index))]

  def sample(self, index) -> Sample:
    """The random draw of sample `index` (poses nothing, renders nothing)."""
    bodies, mocap_poses, _ = self._load()
    rng = np.random.default_rng([self.seed, index])
    body = int(rng.integers(len(bodies)))
    shape = np.clip(rng.normal(size=theta.NUM_SHAPE), -SHAPE_CLIP, SHAPE_CLIP)
    pose = poses.sample_pose(rng, mocap_poses)
    focal, size, center = scene.sample_framing(rng, self.image_size)
    return Sample(body, pose, shape, focal, size, center, scene.sample_look(rng))

  def person(self, index) -> schema.PersonExample:
    """Sample `index`, rendered, with its ground truth."""
    if not isinstance(index, (int, np.integer)) or index < 0:
      raise ValueError(f"Expected a non-negative int index. Received: index={index!r}")
    chunk = index // CHUNK_SIZE
    if self._chunk is None or self._chunk[0] != chunk:
      samples = [self.sample(i) for i in range(chunk * CHUNK_SIZE, (chunk + 1) * CHUNK_SIZE)]
      self._chunk = (chunk, samples, *self._pose(samples))
    _, samples, vertices, keypoints = self._chunk
    k = index - chunk * CHUNK_SIZE
    return self._render(samples[k], vertices[k], keypoints[k], f"{self.seed}/{index}")

  def people(self, samples, image_ids):
    """PersonExamples for given samples (e.g. edited draws of `sample`), posed together."""
    vertices, keypoints = self._pose(samples)
    return [self._render(*args) for args in zip(samples, vertices, keypoints, image_ids)]

  def keypoints(self, indices):
    """The keypoints of samples `indices` without rendering them: [N, 19, 3] in the camera
    frame, as placed in their images, and [N, 19, 2] their projections (pixels)."""
    samples = [self.sample(i) for i in indices]
    keypoints = self._pose(samples)[1]
    return keypoints, np.stack([self._camera(s).project(k) for s, k in zip(samples, keypoints)])

  def _pose(self, samples):
    """Posed and framed bodies: lists of [V, 3] vertices and [19, 3] keypoints, camera frame."""
    bodies = self._load()[0]
    vertices, keypoints = [None] * len(samples), np.zeros((len(samples), schema.NUM_KEYPOINTS, 3))
    for b, body in enumerate(bodies):
      members = [i for i, s in enumerate(samples) if s.body == b]
      if not members:
        continue
      out = body.smpl(np.stack([samples[i].pose for i in members]),
                      np.stack([samples[i].shape for i in members]))
      for i, v, k in zip(members, out["vertices"].numpy(), out["keypoints"].numpy()):
        vertices[i], keypoints[i] = v, k
    translation = scene.place(keypoints, [s.focal for s in samples], self._principal,
                              np.array([s.size for s in samples]),
                              np.stack([s.center for s in samples]))
    return [v + t for v, t in zip(vertices, translation)], keypoints + translation[:, None]

  @property
  def _principal(self):
    return (self.image_size - 1) / 2  # the image centre: pixel centres are at integers

  def _camera(self, sample):
    return render.Camera(sample.focal, sample.focal, self._principal, self._principal)

  def _render(self, sample, vertices, keypoints, image_id):
    bodies, _, photos = self._load()
    body, look = bodies[sample.body], sample.look
    camera = self._camera(sample)
    rng = np.random.default_rng(look.background_seed)
    background = backgrounds.draw(rng, self.image_size, photos)
    image, fragments = render.render(
        vertices, body.faces, camera, background=background, light_dir=look.light_dir,
        ambient=look.ambient,
        vertex_colors=scene.vertex_colors(look, body.skinning_weights, body.hair))
    seen = np.concatenate([
        render.visible(keypoints[:_NUM_LSP], fragments.depth, camera, render.JOINT_TOLERANCE),
        render.visible(keypoints[_NUM_LSP:], fragments.depth, camera, render.SURFACE_TOLERANCE)])
    uv = camera.project(keypoints)  # the centre below frames all 19, hidden or not, as placed
    keypoints2d = np.concatenate([np.where(seen[:, None], uv, 0.0), seen[:, None]], axis=1)
    return schema.PersonExample(
        jpeg=person_crop.encode_jpeg(scene.lens(image, look, rng)),
        height=self.image_size, width=self.image_size, keypoints2d=keypoints2d,
        dataset=DATASET, image_id=image_id, center=(uv.min(axis=0) + uv.max(axis=0)) / 2,
        scale=1.0, offset=np.zeros(2), keypoints3d=keypoints[:_NUM_LSP], pose=sample.pose,
        shape=sample.shape, intrinsics=[camera.fx, camera.fy, camera.cx, camera.cy])

  def _load(self):
    """Body models, mocap poses and photos, loaded once per process."""
    if self._loaded is None:
      bodies = [_load_body(b) for b in self.body_models]
      mocap_poses = None if self.mocap is None else _mocap_poses(self.mocap)
      photos = (None if self.backgrounds is None
                else backgrounds.Photos(self.backgrounds, self.image_size))
      self._loaded = (bodies, mocap_poses, photos)
    return self._loaded


# Cached per process: a worker writes many shards, each with its own unpickled world.
_mocap_poses = functools.lru_cache(maxsize=4)(poses.load_mocap_poses)


@functools.lru_cache(maxsize=16)
def _load_body(body_model):
  model = spec.resolve(body_model)
  if model.num_betas != theta.NUM_SHAPE:
    raise ValueError(f"{model.source}: the synthetic world needs {theta.NUM_SHAPE} betas, the "
                     f"model has {model.num_betas} (load it with num_betas={theta.NUM_SHAPE})")
  if "cocoplus" not in model.regressors:
    raise ValueError(f"{model.source}: the synthetic world needs the model's cocoplus keypoint "
                     f"regressor (HMR's neutral model and the free body model have one); it has "
                     f"{sorted(model.regressors) or 'none'}")
  weights = np.asarray(model.weights, np.float64)
  rest_joints = np.asarray(model.J_regressor, np.float64) @ model.v_template
  return _Body(smpl=SMPL(model), faces=np.asarray(model.faces, np.int32),
               skinning_weights=weights,
               hair=scene.hair_weights(model.v_template, weights, rest_joints))
