"""HMR's augmentation: crop geometry, labels that follow the image, and mirror symmetry."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

import smpl_files
from hmr_tf import joints
from hmr_tf.body import SMPL, BodyModel
from hmr_tf.data import augment
from hmr_tf.data import schema
from hmr_tf.datasets import person_crop

STORED = 322  # px: side of the stored crops (schema.REFERENCE_SIZE, written out)
SIZE = 64  # px: side of the model's image in these tests
MIRROR = np.array([-1.0, 1.0, 1.0])


def mirror_indices(joint_set):
  """Each joint's mirror by name, spelled out here independently of joints.flip_permutation."""
  def mirror(name):
    if name.startswith("left_"):
      return "right_" + name[5:]
    return "left_" + name[6:] if name.startswith("right_") else name
  return np.array([joint_set.names.index(mirror(n)) for n in joint_set.names])


def stored_example(image, keypoints2d, center=(STORED / 2, STORED / 2), **labels):
  """A parsed example whose stored crop is `image` (JPEG, as the converters store it)."""
  ok, jpeg = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
  assert ok
  example = schema.person_example(schema.PersonExample(
      jpeg=jpeg.tobytes(), height=image.shape[0], width=image.shape[1],
      keypoints2d=keypoints2d, dataset="test", image_id="0", center=np.asarray(center),
      scale=1.0, offset=np.zeros(2), **labels))
  return schema.parse_person(tf.constant(example.SerializeToString()))


def run(fn, example, mode):
  """fn(example) eagerly, or inside Dataset.map."""
  if mode == "eager":
    return fn(example)
  dataset = tf.data.Dataset.from_tensors(example).map(fn)
  return next(iter(dataset))


def dots_example(seed):
  """19 dots on black, one per keypoint, each with its own colour; one keypoint far out.

  Returns the parsed example and each keypoint's colour [19, 3].
  """
  rng = np.random.default_rng(seed)
  # Red and green levels 45 apart: JPEG's error at a dot's centre stays under 10.
  colours = np.stack([60 + 45 * (np.arange(19) % 5), 60 + 45 * (np.arange(19) // 5),
                      np.full(19, 128)], -1).astype(np.float64)
  keypoints = np.zeros((19, 3))
  keypoints[:, 2] = 1.0
  # Dots on a 5 x 4 grid 26 px apart, near the centre, in a random order.
  grid = np.stack(np.meshgrid(np.arange(5), np.arange(4)), -1).reshape(-1, 2)[:19]
  keypoints[:, :2] = 108 + 26 * grid[rng.permutation(19)]
  keypoints[3, :2] = (5, 300)  # outside every window
  keypoints[7, 2] = 0.0  # annotated as invisible
  keypoints[7, :2] = 0.0
  image = np.zeros((STORED, STORED, 3), np.uint8)
  for (x, y, visible), colour in zip(keypoints, colours):
    if visible:
      cv2.circle(image, (int(x), int(y)), 8, colour.tolist(), -1)
  # Soft edges: JPEG rings around sharp ones.
  return stored_example(cv2.GaussianBlur(image, (0, 0), 2.0), keypoints), colours


@pytest.mark.parametrize("mode", ["eager", "dataset"])
@pytest.mark.parametrize("scale,shift,flip", [(1.0, (0, 0), False), (0.8, (20, -20), True),
                                              (1.23, (-13, 7), False), (1.1, (5, 17), True)])
def test_keypoints_stay_on_their_dots(mode, scale, shift, flip):
  example, colours = dots_example(seed=0)
  out = run(lambda e: augment.crop_example(e, SIZE, scale, shift, flip), example, mode)
  image = (out["image"].numpy() + 1.0) * 127.5
  keypoints = out["keypoints2d"].numpy()
  source = mirror_indices(joints.COCOPLUS_19) if flip else np.arange(19)
  for j, (u, v, visible) in enumerate(keypoints):
    if source[j] == 7:  # annotated invisible
      assert visible == 0 and u == 0 and v == 0
      continue
    assert visible == 1
    if source[j] == 3:  # out of every window: still labelled, where the window puts it
      size = np.round(224 / scale)
      corner = np.round(STORED / 2 + np.array(shift) - (size - 1) / 2)
      expected = (np.array([5.0, 300.0]) - corner + 0.5) * 2 / size - 1
      expected[0] *= -1 if flip else 1
      np.testing.assert_allclose([u, v], expected, atol=1e-5)
      assert max(abs(u), abs(v)) > 1
      continue
    column, row = np.round((np.array([u, v]) + 1.0) * SIZE / 2 - 0.5).astype(int)
    np.testing.assert_allclose(image[row, column], colours[source[j]], atol=15.0)


def test_unaugmented_keypoints_by_hand():
  keypoints = np.zeros((19, 3))
  keypoints[:4] = [[50, 50, 1], [273, 162, 1], [274, 100, 1], [161, 49, 1]]
  example = stored_example(np.zeros((STORED, STORED, 3), np.uint8), keypoints)
  out = augment.crop_example(example, SIZE)["keypoints2d"].numpy()
  # Window: 224 px, first pixel at round(161 - 223 / 2) = 50 (half to even), so pixel p lies
  # at (p - 50 + 0.5) / 112 - 1: the first and last pixels' centres are ±(1 - 1/224). The last
  # two keypoints lie a pixel outside the window: still labelled, just beyond ±1.
  np.testing.assert_allclose(out[:4], [[-1 + 1 / 224, -1 + 1 / 224, 1],
                                       [1 - 1 / 224, 1 / 224, 1],
                                       [1 + 1 / 224, 50.5 / 112 - 1, 1],
                                       [-1 / 224, -1 - 1 / 224, 1]], atol=1e-6)
  assert not out[4:].any()


def test_a_smaller_stored_crop_gives_the_same_crop():
  # The schema's stored crop spans 320 reference pixels at any resolution (the synthetic world
  # stores fewer): the same person stored at half size must crop to the same labels and image.
  keypoints = np.zeros((19, 3))
  keypoints[:3] = [[100, 120, 1], [200, 230, 1], [160, 60, 1]]
  rng = np.random.default_rng(1)
  texture = cv2.resize(rng.uniform(0, 255, (20, 20, 3)), (STORED, STORED)).astype(np.uint8)
  full = stored_example(texture, keypoints)
  halved = keypoints.copy()
  halved[:, :2] = (keypoints[:, :2] + 0.5) / 2 - 0.5  # pixel centres at half resolution
  half = stored_example(cv2.resize(texture, (STORED // 2, STORED // 2),
                                   interpolation=cv2.INTER_AREA), halved,
                        center=((STORED / 2 + 0.5) / 2 - 0.5,) * 2)
  for args in [(1.0, (0, 0), False), (0.8, (20, -10), True)]:
    from_full = augment.crop_example(full, SIZE, *args)
    from_half = augment.crop_example(half, SIZE, *args)
    # Windows snap to whole stored pixels: half a 160-px pixel is 1/112 of the crop's half-width.
    np.testing.assert_allclose(from_half["keypoints2d"], from_full["keypoints2d"], atol=2.5 / 112)
    assert np.abs(from_half["image"] - from_full["image"]).mean() < 0.1


def bilinear(image, x, y):
  """numpy: image [H, W, C] sampled at columns x [N] and rows y [M], its edge pixels repeated
  outside (np.pad's "edge" mode, as HMR pads). [M, N, C]"""
  pad = 64
  padded = np.pad(image, [(pad, pad), (pad, pad), (0, 0)], mode="edge")
  x, y = x + pad, y + pad

  def at(rows, columns):
    return padded[rows][:, columns]

  x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
  wx, wy = (x - x0)[None, :, None], (y - y0)[:, None, None]
  return ((1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1))
          + wy * ((1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1)))


@pytest.mark.parametrize("scale,shift,flip", [(1.0, (0, 0), False), (0.8, (20, 20), True),
                                              (1.23, (-20, 10), False)])
def test_image_is_the_scaled_shifted_window(scale, shift, flip):
  rng = np.random.default_rng(0)
  texture = cv2.resize(rng.uniform(0, 255, (40, 40, 3)), (STORED, STORED))
  center = np.array([150.0, 170.0])
  example = stored_example(texture.astype(np.uint8), np.zeros((19, 3)), center)
  out = augment.crop_example(example, SIZE, scale, shift, flip)["image"].numpy()
  # numpy: the window of 224 / scale px centred at center + shift (HMR moves the centre before
  # it scales), snapped to pixels, sampled at the output pixels' centres.
  size = np.round(224 / scale)
  corner = np.round(center + np.array(shift) - (size - 1) / 2)
  sampled = corner[:, None] + (np.arange(SIZE) + 0.5) * size / SIZE - 0.5  # [2 (x, y), SIZE]
  if flip:
    sampled[0] = sampled[0, ::-1]
  stored = tf.io.decode_jpeg(example["image/encoded"]).numpy()
  expected = bilinear(stored, sampled[0], sampled[1]) / 127.5 - 1.0
  # Decoding the window alone gives the pixels of decoding the whole image (within a grey
  # level: at the window's edge, chroma is upsampled without the pixels beyond), and beyond
  # the image its edge pixels.
  np.testing.assert_allclose(out, expected, atol=1.0 / 127.5)
  assert (sampled[1] > STORED - 1).any() == (scale < 1)  # this window reaches beyond the image


@pytest.mark.parametrize("center", [STORED / 2 - 0.5, STORED / 2, STORED / 2 + 0.5])
def test_hmrs_widest_window_stays_inside_the_stored_crop(center):
  # HMR's extremes, by hand: scale 0.8 (a 280 px window), the centre moved 20 px either way;
  # a converter's stored centre is within half a pixel of the crop's middle.
  for shift in (-20.0, 20.0):
    corner, size = augment.crop_window(tf.constant([center, center]), 0.8, (shift, shift))
    corner, size = corner.numpy(), size.numpy()
    assert size == 280
    assert np.all(corner >= 0) and np.all(corner + size <= STORED), (corner, size)


def test_no_black_pixel_in_augmented_crops_of_an_image_with_content_to_its_borders():
  # A textured photo, nowhere darker than 80, with the person near its top-left corner: the
  # stored crop reaches beyond the photo, and HMR's augmentations beyond the stored crop.
  rng = np.random.default_rng(0)
  photo = cv2.resize(rng.uniform(80, 255, (12, 16, 3)), (160, 120)).astype(np.uint8)
  keypoints = np.zeros((19, 3))
  keypoints[:, :2] = rng.uniform(5, 60, (19, 2))
  keypoints[:, 2] = 1
  record = person_crop.person_example(photo, keypoints, "test", "0", center=(10.0, 10.0),
                                      scale=1.5)
  example = schema.parse_person(tf.constant(record.SerializeToString()))
  cases = [dict(scale=0.8, shift=(x, y), flip=False) for x in (-20, 20) for y in (-20, 20)]
  outputs = [augment.crop_example(example, SIZE, **case) for case in cases]
  outputs += [augment.augment(example, tf.constant([seed, 1]), SIZE) for seed in range(20)]
  for out in outputs:
    pixels = (out["image"].numpy() + 1.0) * 127.5
    assert pixels.max(axis=-1).min() > 60  # the darkest pixel is the photo's, not padding


def test_person_crop_repeats_the_edge_pixels_beyond_the_image():
  image = np.random.default_rng(0).integers(0, 256, (30, 40, 3), np.uint8)
  cropped, offset = person_crop.crop(image, center=(3.0, 25.0), scale=1.0, margin=20)
  np.testing.assert_array_equal(offset, [-17, 5])
  # numpy: pad by repeating the edges, then cut the window.
  padded = np.pad(image, [(20, 20), (20, 20), (0, 0)], mode="edge")
  np.testing.assert_array_equal(cropped, padded[5 + 20:45 + 20, -17 + 20:23 + 20])


def test_flip_pose_by_hand():
  pose = np.zeros((24, 3))
  pose[joints.SMPL_24.index("left_hip")] = [0.1, 0.2, 0.3]
  pose[0] = [3.0, 0.5, -0.4]
  flipped = augment.flip_pose(tf.constant(pose.reshape(1, 72), tf.float32)).numpy()
  expected = np.zeros((24, 3))
  expected[joints.SMPL_24.index("right_hip")] = [0.1, -0.2, -0.3]
  expected[0] = [3.0, -0.5, 0.4]
  np.testing.assert_allclose(flipped.reshape(24, 3), expected, atol=1e-7)


def test_flip_keypoints3d_mirrors_x_and_swaps_sides():
  points = np.random.default_rng(0).normal(size=(2, 14, 3))
  flipped = augment.flip_keypoints3d(tf.constant(points, tf.float32)).numpy()
  np.testing.assert_allclose(flipped, points[:, mirror_indices(joints.LSP_14)] * MIRROR,
                             atol=1e-6)


@pytest.mark.parametrize("flip,shape", [(augment.flip_keypoints2d, (3, 19, 3)),
                                        (augment.flip_keypoints3d, (14, 3)),
                                        (augment.flip_pose, (5, 72))])
def test_flipping_twice_is_the_identity(flip, shape):
  values = tf.constant(np.random.default_rng(1).normal(size=shape), tf.float32)
  np.testing.assert_array_equal(flip(flip(values)).numpy(), values.numpy())


def symmetric_body_model(pairs=40, seed=0):
  """A random SMPL-layout body that is its own mirror image (x -> -x).

  Vertex i and i + pairs are mirror images, and so are joints j and mirror(j). Every array A
  is replaced by (A + T A) / 2, where T mirrors it: T swaps the vertex pairs and the joint
  pairs and negates x-components. The pose correctives' features (R_j - I)[a, b] of the
  mirrored body are those of the mirror joint times m_a m_b (R -> M R M, M = diag(m)).
  """
  base = smpl_files.random_body_model(num_verts=2 * pairs, seed=seed, cocoplus=False)
  vertex = np.r_[np.arange(pairs, 2 * pairs), np.arange(pairs)]
  joint = mirror_indices(joints.SMPL_24)
  m = MIRROR
  num_joints = len(joint)

  def symmetric(array, mirrored):
    return (array + mirrored) / 2

  posedirs = base.posedirs.reshape(2 * pairs, 3, num_joints - 1, 3, 3)
  mirrored_posedirs = (posedirs[vertex][:, :, joint[1:] - 1]
                       * m[None, :, None, None, None] * m[:, None] * m)
  return BodyModel(
      v_template=symmetric(base.v_template, base.v_template[vertex] * m),
      shapedirs=symmetric(base.shapedirs, base.shapedirs[vertex] * m[:, None]),
      posedirs=symmetric(posedirs, mirrored_posedirs).reshape(base.posedirs.shape),
      J_regressor=symmetric(base.J_regressor, base.J_regressor[joint][:, vertex]),
      weights=symmetric(base.weights, base.weights[vertex][:, joint]),
      parents=base.parents, faces=base.faces, source="symmetric_body_model")


def test_flipped_pose_gives_the_mirrored_mesh():
  model = symmetric_body_model()
  smpl = SMPL(model, dtype="float64")
  rng = np.random.default_rng(0)
  pose = tf.constant(rng.normal(scale=0.5, size=(3, 72)))
  shape = tf.constant(rng.normal(size=(3, 10)))
  out = smpl(pose, shape)
  mirrored = smpl(augment.flip_pose(pose), shape)
  pairs = model.num_vertices // 2
  vertex = np.r_[np.arange(pairs, 2 * pairs), np.arange(pairs)]
  np.testing.assert_allclose(mirrored["vertices"].numpy(),
                             out["vertices"].numpy()[:, vertex] * MIRROR, atol=1e-10)
  joint = joints.flip_permutation(joints.SMPL_24)
  np.testing.assert_allclose(mirrored["joints"].numpy(),
                             out["joints"].numpy()[:, joint] * MIRROR, atol=1e-10)
  # Not trivially symmetric: the pose moved the mesh away from its mirror image.
  assert np.abs(mirrored["vertices"].numpy() - out["vertices"].numpy()).max() > 0.05


def test_augment_is_a_function_of_the_seed_eager_and_in_map():
  example, _ = dots_example(seed=1)
  seeds = tf.constant([[1, 2], [1, 2], [3, 4]], tf.int64)
  eager = [augment.augment(example, seed, SIZE, color_strength=0.3) for seed in seeds]
  mapped = list(tf.data.Dataset.from_tensor_slices(seeds).map(
      lambda seed: augment.augment(example, seed, SIZE, color_strength=0.3),
      num_parallel_calls=3))
  for a, b in zip(eager, mapped):
    for key in ("image", "keypoints2d", "pose"):
      np.testing.assert_allclose(a[key].numpy(), b[key].numpy(), atol=1e-6)
  np.testing.assert_array_equal(eager[0]["image"].numpy(), eager[1]["image"].numpy())
  assert np.abs(eager[0]["image"].numpy() - eager[2]["image"].numpy()).max() > 0.1


def test_random_transform_ranges_and_flip_rate():
  seeds = tf.data.Dataset.random(seed=0).batch(2).take(2000)
  draws = list(seeds.map(augment.random_transform).batch(2000))[0]
  scale, shift, flip = (draws[k].numpy() for k in ("scale", "shift", "flip"))
  assert 0.8 <= scale.min() < 0.82 and 1.21 < scale.max() <= 1.23
  assert -20 <= shift.min() < -19.5 and 19.5 < shift.max() <= 20
  assert abs(scale.mean() - 1.015) < 0.01 and abs(shift.mean()) < 1.0
  assert abs(flip.mean() - 0.5) < 0.04  # 4.5 standard deviations


def test_color_jitter_keeps_range_and_grey():
  grey = tf.fill([SIZE, SIZE, 3], 0.2)
  noise = tf.random.stateless_uniform([SIZE, SIZE, 3], [0, 0], -1.0, 1.0)
  for seed in range(5):
    out = augment.color_jitter(grey, [seed, 0], 0.4).numpy()
    np.testing.assert_allclose(out, out[0, 0, 0], atol=1e-6)  # saturation adds no colour
    jittered = augment.color_jitter(noise, [seed, 0], 0.4).numpy()
    assert jittered.min() >= -1.0 and jittered.max() <= 1.0
  assert abs(augment.color_jitter(grey, [0, 0], 0.4)[0, 0, 0] - 0.2) > 1e-3
