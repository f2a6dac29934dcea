"""textsim: the helpers that the notebooks of this tutorial share. Each module names the notebook that teaches it."""
from .models import ModelNotFoundError, resolve_model
from .series.profiles import PROFILES, RECIPES, Profile, load_profile
from .data import LABEL_NAMES, DataError, ensure_data, load_splits, read_pairs, split_pairs
from .device import describe, mixed_precision, pick_device
from .metrics import best_threshold, classification_metrics, majority_baseline, metrics_at, trainer_metrics
from .series.results import environment
from .series.run import NOTEBOOKS, Run, quiet_logs, start_run

__all__ = [
    "PROFILES", "RECIPES", "ModelNotFoundError", "Profile", "load_profile", "quiet_logs", "resolve_model",
    "LABEL_NAMES", "DataError", "ensure_data", "load_splits", "read_pairs", "split_pairs",
    "describe", "mixed_precision", "pick_device",
    "best_threshold", "classification_metrics", "majority_baseline", "metrics_at", "trainer_metrics",
    "NOTEBOOKS", "Run", "environment", "start_run",
]
