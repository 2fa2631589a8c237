"""The engine dtype "auto" resolves to on a CPU host: bfloat16 only where the CPU computes it natively."""

from __future__ import annotations

from pathlib import Path

# Without these, vLLM's CPU kernels emulate bfloat16: a 1.5B model then warmed up for over 7 minutes on an
# AVX2-only 2-core VM, where float32 started in 4.5.
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def engine_dtype(configured: str, flags: frozenset[str] | None = None, has_gpu: bool | None = None) -> str:
    """`configured`, except that "auto" on a CPU without native bfloat16 means float32."""
    if configured != "auto":
        return configured
    if has_gpu is None:
        import torch

        has_gpu = torch.cuda.is_available()
    if has_gpu:
        return configured
    return configured if (flags if flags is not None else cpu_flags()) & NATIVE_BF16_FLAGS else "float32"
