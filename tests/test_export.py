"""The SavedModel's signatures: the crop inside, against a numpy crop and the Keras model."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

import export_fixtures
from hmr_tf.export import crop
from hmr_tf.export import saved_model

SIZE = export_fixtures.SIZE
HMR_OUTPUTS = ("theta", "camera", "pose", "shape", "vertices", "joints3d", "keypoints3d")


@pytest.fixture(scope="module")
def signatures():
  return tf.saved_model.load(export_fixtures.saved_model_dir()).signatures


def numpy_crop(image, center, side, size=SIZE):
  """Bilinear samples at the centres of a size × size grid over the square window, zero outside
  the image, mapped to [-1, 1]: [size, size, 3]."""
  steps = center[None] - side / 2 + (np.arange(size)[:, None] + 0.5) * side / size  # [S, (x, y)]
  out = np.zeros((size, size, 3))
  for i, y in enumerate(steps[:, 1]):
    for j, x in enumerate(steps[:, 0]):
      x0, y0 = int(np.floor(x)), int(np.floor(y))
      for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
          if 0 <= yy < image.shape[0] and 0 <= xx < image.shape[1]:
            out[i, j] += wy * wx * image[yy, xx]
  return out * 2 / 255 - 1


def _image(height, width, seed=0):
  coarse = np.random.default_rng(seed).uniform(0, 255, (6, 6, 3)).astype(np.uint8)
  return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def _keras(crops):
  out = export_fixtures.model()(np.asarray(crops, np.float32), training=False)
  return {key: value.numpy() for key, value in out.items()}


def test_signatures_and_their_inputs(signatures):
  assert set(signatures) == {"serving_default", "serve_boxes", "serve_crops"}
  inputs = {name: {key: (spec.dtype, spec.shape.as_list())
                   for key, spec in signatures[name].structured_input_signature[1].items()}
            for name in signatures}
  assert inputs == {
      "serving_default": {"images": (tf.uint8, [None, None, None, 3])},
      "serve_boxes": {"images": (tf.uint8, [None, None, None, 3]), "boxes": (tf.float32, [None, 4])},
      "serve_crops": {"crops": (tf.float32, [None, SIZE, SIZE, 3])}}
  assert set(signatures["serve_boxes"].structured_outputs) == set(saved_model.OUTPUTS)


@pytest.mark.parametrize("batch", [1, 5])
def test_serve_crops_equals_keras(signatures, batch):
  crops = export_fixtures.crops(batch)
  got = signatures["serve_crops"](crops=tf.constant(crops))
  expected = _keras(crops)
  for key in HMR_OUTPUTS:
    np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-5, err_msg=key)
  # keypoints in pixels of the crop: pixel centres at integers, [-1, 1] spans the outer edges
  np.testing.assert_allclose(got["keypoints2d"], (expected["keypoints2d"] + 1) * SIZE / 2 - 0.5,
                             atol=1e-4)
  np.testing.assert_allclose(got["crop_boxes"], np.tile([[-0.5, -0.5, SIZE - 0.5, SIZE - 0.5]],
                                                        (batch, 1)))


@pytest.mark.parametrize("height, width", [(40, 56), (90, 70)])
def test_serving_default_crops_the_whole_image_like_the_original_demo(signatures, height, width):
  """No box: the image is the person's crop, centred, its longer side the model's input."""
  image = _image(height, width)
  got = signatures["serving_default"](images=tf.constant(image[None]))
  center, side = np.array([(width - 1) / 2, (height - 1) / 2]), max(height, width)
  expected = _keras(numpy_crop(image, center, side)[None])
  for key in HMR_OUTPUTS:
    np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-4, err_msg=key)
  np.testing.assert_allclose(got["keypoints2d"][0], center + expected["keypoints2d"][0] * side / 2,
                             atol=1e-3)


def test_serve_boxes_crops_at_the_training_person_scale(signatures):
  """The box diagonal is 150 px of a 224 px window centred on the box (hmr_tf.data).

  The windows stay within 2 crop sides, where the crop is plain bilinear sampling.
  """
  image = _image(120, 100, seed=3)
  boxes = np.array([[30, 20, 60, 100], [5, 5, 60, 70], [-20, 60, 30, 120], [10, 10, 14, 13],
                    [50, 60, 51, 61]], np.float32)  # inside, large, crossing, tiny, 1 px
  got = signatures["serve_boxes"](images=tf.constant(np.repeat(image[None], 5, axis=0)),
                                  boxes=tf.constant(boxes))
  centers = (boxes[:, :2] + boxes[:, 2:]) / 2
  sides = np.hypot(*(boxes[:, 2:] - boxes[:, :2]).T) * 224 / 150
  expected = _keras(np.stack([numpy_crop(image, c, m) for c, m in zip(centers, sides)]))
  for key in HMR_OUTPUTS:
    np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-4, err_msg=key)
  np.testing.assert_allclose(got["keypoints2d"],
                             centers[:, None] + expected["keypoints2d"] * sides[:, None, None] / 2,
                             rtol=1e-5, atol=1e-3)
  np.testing.assert_allclose(got["crop_boxes"], np.concatenate(
      [centers - sides[:, None] / 2, centers + sides[:, None] / 2], axis=1), rtol=1e-6, atol=1e-4)


def test_camera_translation_projects_like_the_crop_camera(signatures):
  """A pinhole camera with the full-image translation puts a point at the body's depth exactly
  where the crop's weak-perspective camera put it (CLIFF's cam_crop_to_full)."""
  height, width = 90, 130
  image = _image(height, width, seed=5)
  box = np.array([[70, 10, 110, 80]], np.float32)
  out = {k: v.numpy()[0] for k, v in signatures["serve_boxes"](
      images=tf.constant(image[None]), boxes=tf.constant(box)).items()}
  focal = np.hypot(height, width)  # the default: the image diagonal
  assert out["focal_length"] == pytest.approx(focal)
  points = out["keypoints3d"].copy()
  points[:, 2] = 0.0  # at the body's depth
  camera = points + out["camera_translation"]
  projected = focal * camera[:, :2] / camera[:, 2:] + [(width - 1) / 2, (height - 1) / 2]
  np.testing.assert_allclose(projected, out["keypoints2d"], rtol=1e-5, atol=1e-3)
  s, side = out["camera"][0], out["crop_boxes"][2] - out["crop_boxes"][0]
  assert out["camera_translation"][2] == pytest.approx(2 * focal / (s * side), rel=1e-5)


def test_crop_level0_is_crop_and_resize():
  """Inside the image and within 2× of the crop side, the crop is plain bilinear sampling."""
  image = _image(200, 300, seed=7)
  center, side = np.array([[140.3, 90.8]], np.float32), np.array([100.0], np.float32)
  got = crop.crop(image[None], center, side, SIZE).numpy()[0]
  first = center[0] - side[0] / 2 + side[0] / (2 * SIZE)
  last = center[0] + side[0] / 2 - side[0] / (2 * SIZE)
  box = [[first[1] / 199, first[0] / 299, last[1] / 199, last[0] / 299]]
  expected = tf.image.crop_and_resize(image[None].astype(np.float32), box, [0], [SIZE, SIZE])
  np.testing.assert_allclose(got, expected[0].numpy() * 2 / 255 - 1, atol=1e-5)


def test_crop_outside_the_image_is_black():
  image = np.full((20, 20, 3), 255, np.uint8)
  got = crop.crop(image[None], np.array([[-100.0, 10.0]], np.float32),
                  np.array([40.0], np.float32), 8).numpy()
  np.testing.assert_array_equal(got, -1.0)
  half = crop.crop(image[None], np.array([[0.0 - 0.5, 9.5]], np.float32),
                   np.array([20.0], np.float32), 8).numpy()[0]
  np.testing.assert_array_equal(half[:, :4], -1.0)  # the left half of the window is outside
  np.testing.assert_array_equal(half[1:-1, 4:], 1.0)


def test_large_windows_are_area_averaged():
  """A window 14× the crop is shrunk as an area average would, not aliased."""
  yy, xx = np.mgrid[:1000, :1000]
  stripes = ((xx // 2 + yy // 3) % 2 * 255).astype(np.uint8)  # finer than the crop's pixels
  image = np.stack([stripes, 255 - stripes, stripes // 2], axis=-1)
  got = crop.crop(image[None], np.array([[499.5, 499.5]], np.float32),
                  np.array([896.0], np.float32), SIZE).numpy()[0]
  window = image[52:948, 52:948]
  expected = window.reshape(SIZE, 14, SIZE, 14, 3).mean(axis=(1, 3)) * 2 / 255 - 1  # 14×14 means
  assert np.abs(got - expected).mean() < 0.02
  plain = crop.bilinear_crop(tf.constant(image[None], tf.float32), tf.constant([[499.5, 499.5]]),
                             tf.constant([896.0]), SIZE).numpy()[0] * 2 / 255 - 1
  assert np.abs(plain - expected).mean() > 0.2  # what plain bilinear sampling would give


def test_box_windows_rule():
  centers, sides = crop.box_windows(tf.constant([[10.0, 20.0, 40.0, 60.0]]))
  np.testing.assert_allclose(centers, [[25.0, 40.0]])
  np.testing.assert_allclose(sides, [50.0 * 224 / 150], rtol=1e-6)  # diagonal 50 px
