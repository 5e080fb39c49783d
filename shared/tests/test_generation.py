"""GenerationConfig's rules and make_backend's choice of backend."""

from dataclasses import dataclass, fields
from typing import ClassVar

import pytest
import torch

from shared import generation
from shared.generation import GenerationConfig, TransformersBackend, make_backend
from shared.recipes import ConfigError, FieldError, flag

TEXTS = ["Question: what is two plus two? Answer: four.", "The cell's energy comes from mitochondria."] * 8


def cpu(**overrides) -> GenerationConfig:
    return GenerationConfig(**{"backend": "transformers", "generator": "tiny:qwen2", "chat_template": False,
                               "max_new_tokens": 8, "batch_size": 2, **overrides})  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("backend", "tgi", r"backend: 'tgi' is not one of transformers \| vllm"),
        ("dtype", "int8", r"dtype: 'int8' is not one of auto \| bfloat16 \| float16 \| float32"),
        ("max_new_tokens", 2, "max_new_tokens: 2 must be >= 8"),
        ("temperature", -0.1, "temperature: -0.1 must be >= 0"),
        ("top_p", 0.0, r"top_p: 0.0 must be in \(0, 1\]"),
        ("gpu_memory_utilization", 1.5, r"gpu_memory_utilization: 1.5 must be in \(0, 1\]"),
        ("generator", " ", "generator: ' ' must name a model"),
        ("chat_template", True, "chat_template: True with a tiny: generator"),
    ],
)
def test_each_rule_raises_a_field_error_naming_the_field(field, value, message):
    with pytest.raises(FieldError, match=message) as err:
        cpu(**{field: value})
    assert err.value.field == field


def test_a_subclass_extends_the_rules_and_overrides_defaults_in_place():
    @dataclass
    class Task(GenerationConfig):
        top_p: float = flag(0.95, "nucleus sampling mass")
        per_item: int = flag(1, "requests per item")

        LOWEST: ClassVar[dict] = GenerationConfig.LOWEST | {"per_item": 1}

    names = [f.name for f in fields(Task)]
    assert names[: len(fields(GenerationConfig))] == [f.name for f in fields(GenerationConfig)]
    assert names[-1] == "per_item" and Task(chat_template=False, generator="x").top_p == 0.95
    with pytest.raises(FieldError, match="per_item: 0 must be >= 1"):
        Task(per_item=0)
    with pytest.raises(FieldError, match="max_new_tokens: 1 must be >= 8"):
        Task(max_new_tokens=1)


def test_make_backend_builds_transformers_on_a_tiny_generator():
    backend = make_backend(cpu(temperature=0.0), TEXTS)
    assert isinstance(backend, TransformersBackend)
    texts = backend.complete([[{"role": "user", "content": "Question:"}]], seed=0, desc="t")
    assert len(texts) == 1 and isinstance(texts[0], str)


def test_make_backend_refuses_vllm_without_cuda_before_building_anything(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(generation, "resolve_backbone", lambda *a: pytest.fail("built a generator"))
    with pytest.raises(
        ConfigError, match="backend: vllm needs a CUDA GPU and none is visible; use --backend transformers"
    ):
        make_backend(cpu(backend="vllm"), TEXTS)
    with pytest.raises(ConfigError, match="vllm needs a CUDA GPU"):
        generation.VllmBackend("unused", cpu(backend="vllm"))
