"""hmr-demo: HMR on photos: the mesh over the photo, a side view, mesh files and parameters.

  hmr-demo --model saved_models/q --images photo.jpg --output demo_out
  hmr-demo --model saved_models/q/tflite/int8.tflite --images photos/,more.png --output out
      [--bbox x0,y0,x1,y1 | --keypoints photo_keypoints.json | --keypoints keypoints_dir/]
      [--focal_length F]

--images takes image files and folders (every image in a folder, sorted). Without --bbox or
--keypoints each image is taken as the person's crop (the original demo's rule); --bbox gives
the person's box in every image; --keypoints an OpenPose or COCO keypoints json (the original
demo's OpenPose output), or a folder holding <name>_keypoints.json or <name>.json per image
(OpenPose's --write_json names). A SavedModel or a .tflite file from hmr-export runs the model
(a .tflite file needs no TensorFlow).

Writes per image, into --output, the files hmr_tf.demo_files lists: <name>_overlay.png,
<name>_side.png, <name>.obj, <name>.ply and <name>.json. An image that cannot be used
(unreadable, no person in its json, a box outside it) is reported and skipped; the exit code
is 1 if any image failed.
"""

import os

from absl import app
from absl import flags
from absl import logging
import tqdm

from hmr_tf import demo_files
from hmr_tf import inference
from hmr_tf.checks import BadInput

_MODEL = flags.DEFINE_string("model", None, "A SavedModel directory or .tflite file "
                             "(hmr-export).")
_IMAGES = flags.DEFINE_list("images", None, "Image files and folders of images.")
_OUTPUT = flags.DEFINE_string("output", None, "Directory for the results.")
_BBOX = flags.DEFINE_list("bbox", None, "The person's box x0,y0,x1,y1 in pixels.")
_KEYPOINTS = flags.DEFINE_string(
    "keypoints", None, "OpenPose or COCO keypoints json, or a folder of <name>_keypoints.json.")
_FOCAL_LENGTH = flags.DEFINE_float("focal_length", None, "Focal length in pixels of the "
                                   "camera placed in <name>.json (default: the image diagonal).")

flags.mark_flags_as_required(["model", "images", "output"])
flags.mark_flags_as_mutual_exclusive(["bbox", "keypoints"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  box = None
  if _BBOX.value:
    try:
      box = [float(v) for v in _BBOX.value]
    except ValueError:
      box = []
    if len(box) != 4:
      raise app.UsageError(f"--bbox takes x0,y0,x1,y1; found {','.join(_BBOX.value)}")
  predictor = inference.Predictor(_MODEL.value, focal_length=_FOCAL_LENGTH.value)
  os.makedirs(_OUTPUT.value, exist_ok=True)
  files = demo_files.image_files(_IMAGES.value)
  failed = 0
  for (path, error), name in zip(tqdm.tqdm(files, desc="hmr-demo", unit="image"),
                                 demo_files.output_names([p for p, _ in files])):
    try:
      if error:
        raise error
      image = inference.read_image(path)
      person = predictor.predict(
          image, box=box, keypoints=demo_files.keypoints_for(path, _KEYPOINTS.value), name=path)
      demo_files.write_results(_OUTPUT.value, name, image, person, predictor.faces, path)
    except BadInput as e:
      failed += 1
      logging.error("skipped: %s", e)
  logging.info("%d of %d images done, results in %s", len(files) - failed, len(files),
               _OUTPUT.value)
  return 1 if failed else 0


def run():
  app.run(main)


if __name__ == "__main__":
  run()
