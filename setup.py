"""hmr_tf: End-to-end Recovery of Human Shape and Pose (HMR) in TensorFlow 2 / Keras 3."""

import setuptools

TF_VERSION = "2.21.*"

setuptools.setup(
    name="hmr_tf",
    version="0.1.0",
    description="HMR (Kanazawa et al., CVPR 2018) in TensorFlow 2 / Keras 3",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["hmr_tf", "hmr_tf.*"]),
    package_data={"hmr_tf": ["body/assets/*.npz"]},
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.12",  # NNLS was rewritten in 1.12: the free body build is checked from there on
        "absl-py>=2.0",
        "ml-collections>=0.1.1",
        "opencv-python-headless>=4.8",
        "h5py>=3.8",  # HMR's neutral_smpl_mean_params.h5
        "pillow>=9.1",  # an image's size from its header, checked before cv2 decodes it
        "numba>=0.60",  # the headless rasterizer's kernels (hmr_tf.render)
        "tensorboard>=2.16",
        "tqdm>=4.60",  # progress bars of the converters and the synthetic world
    ],
    extras_require={
        # TensorFlow comes as an extra so that users pick the CPU or the GPU build.
        "cpu": [f"tensorflow-cpu=={TF_VERSION}"],
        "gpu": [f"tensorflow[and-cuda]=={TF_VERSION}"],
        # Runs the exported .tflite files, without TensorFlow (hmr_tf.inference, hmr-demo).
        "litert": ["ai-edge-litert>=1.0"],
        # The tests run every TFLite variant in ai-edge-litert, as users do.
        "test": ["pytest>=7", "ai-edge-litert>=1.0"],
    },
    entry_points={
        "console_scripts": [
            "hmr-body=hmr_tf.cli.body:run",
            "hmr-convert=hmr_tf.cli.convert:run",
            "hmr-demo=hmr_tf.cli.demo:run",
            "hmr-evaluate=hmr_tf.cli.evaluate:run",
            "hmr-export=hmr_tf.cli.export:run",
            "hmr-quickstart=hmr_tf.cli.quickstart:run",
            "hmr-synth=hmr_tf.cli.synth:run",
            "hmr-train=hmr_tf.cli.train:run",
        ],
    },
)
