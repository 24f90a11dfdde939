"""Layer 3, training: the presets (`presets`), the paper's tricks one function each (`schedule`),
one training forward (`batches`), the loop (`loop`) and the run folder that makes it resumable
(`run_folder`)."""

from .loop import TrainResult, train
from .presets import PRESETS, Preset, get_preset
from .run_folder import RunFolderError

__all__ = ["PRESETS", "Preset", "RunFolderError", "TrainResult", "get_preset", "train"]
