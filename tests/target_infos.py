"""A loaded in-process target's info for exporter tests that need every model series without loading a model."""

from __future__ import annotations

import dataclasses

from healthmon.target_info import ModelFacts, ModelStatus, TargetInfo

FACTS = ModelFacts(architecture="Qwen2ForCausalLM", model_type="qwen2", parameters=10, parameters_billions=0.0,
                   memory_footprint_bytes=1, memory_footprint_gb=0.0, context_tokens=1024, vocab_size=10,
                   device="cpu", dtype="float32", path="m", has_chat_template=False, is_demo=True,
                   batching_unsupported_reason=None)


def loaded(info: TargetInfo) -> TargetInfo:
    """`info` (a runtime's own, with its scheduler) as if its model had loaded in 0.5 s."""
    return dataclasses.replace(info, status=ModelStatus.LOADED, load_seconds=0.5, facts=FACTS)
