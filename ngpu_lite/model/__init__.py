"""Layer 2, model: the CGRU (`cgru`), the Neural GPU (`neural_gpu`), parameter-sharing relaxation
(`relax`), optimisers (`optim`), a model saved and loaded (`checkpoints`) and scored on fresh
inputs (`evaluate`)."""

from .neural_gpu import Config, Hook, NeuralGPU, model_name

__all__ = ["Config", "Hook", "NeuralGPU", "model_name"]
