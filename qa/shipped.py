"""What ships inside the package beside the code: the trained cross-encoder and the fitted
weights of the evidence, reader and abstention models (``train/`` writes them). Settings
name the model's folder as a default and the read pipeline loads both, so their places
are kept here, below both."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).parent
MODEL_DIR = PACKAGE_DIR / "models" / "cross"
WEIGHTS_DIR = PACKAGE_DIR / "weights"
