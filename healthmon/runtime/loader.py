"""Load a checkpoint through the standard transformers path, on a sensible device and dtype."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from healthmon.target_info import ModelFacts

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def choose_device(requested: str, cuda_available: bool | None = None) -> str:
    """`auto` takes the first CUDA device when there is one, the CPU otherwise."""
    cuda_available = torch.cuda.is_available() if cuda_available is None else cuda_available
    if requested == "auto":
        return "cuda:0" if cuda_available else "cpu"
    if requested.startswith("cuda") and not cuda_available:
        raise RuntimeError(f"HEALTHMON_DEVICE={requested} but CUDA is not available on this machine")
    return "cuda:0" if requested == "cuda" else requested


def choose_dtype(requested: str, device: str, bf16_supported: bool | None = None) -> torch.dtype:
    """bf16 on GPUs that support it (fp16 otherwise) halves memory; CPUs get fp32, where half precision is slow."""
    if requested != "auto":
        return _DTYPES[requested]
    if not device.startswith("cuda"):
        return torch.float32
    bf16_supported = torch.cuda.is_bf16_supported() if bf16_supported is None else bf16_supported
    return torch.bfloat16 if bf16_supported else torch.float16


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    path: Path
    device: str
    dtype: str

    def describe(self, *, is_demo: bool, batching_unsupported_reason: str | None) -> ModelFacts:
        """Facts about the loaded weights, computed once at load: they do not change while loaded."""
        config = self.model.config
        parameters = sum(p.numel() for p in self.model.parameters())
        footprint_bytes = sum(p.numel() * p.element_size() for p in self.model.parameters()) + sum(
            b.numel() * b.element_size() for b in self.model.buffers())
        architectures = getattr(config, "architectures", None) or [type(self.model).__name__]
        return ModelFacts(
            architecture=architectures[0], model_type=getattr(config, "model_type", None),
            parameters=parameters, parameters_billions=round(parameters / 1e9, 4),
            memory_footprint_bytes=footprint_bytes, memory_footprint_gb=round(footprint_bytes / 1024**3, 4),
            context_tokens=getattr(config, "max_position_embeddings", None),
            vocab_size=getattr(config, "vocab_size", None), device=self.device, dtype=self.dtype,
            path=str(self.path), has_chat_template=bool(getattr(self.tokenizer, "chat_template", None)),
            is_demo=is_demo, batching_unsupported_reason=batching_unsupported_reason)


def load_checkpoint(path: Path, *, device: str = "auto", dtype: str = "auto") -> LoadedModel:
    """AutoTokenizer + AutoModelForCausalLM, the same path for the demo model and a real one."""
    target_device = choose_device(device)
    target_dtype = choose_dtype(dtype, target_device)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=target_dtype, low_cpu_mem_usage=True)
    model.to(target_device)  # type: ignore[arg-type]  # transformers' decorator types .to() for dtypes only
    model.eval()
    return LoadedModel(model, tokenizer, Path(path), target_device, str(target_dtype).removeprefix("torch."))
