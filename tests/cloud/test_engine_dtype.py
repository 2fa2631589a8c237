"""What the engine dtype "auto" becomes on CPU hosts with and without native bfloat16 (pure logic)."""

from __future__ import annotations

from cloud.backends.dtype import cpu_flags, engine_dtype


def test_auto_is_float32_on_a_cpu_without_native_bfloat16(tmp_path):
    avx2_only = tmp_path / "cpuinfo"
    avx2_only.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma f16c\n")
    assert engine_dtype("auto", cpu_flags(avx2_only), has_gpu=False) == "float32"
    assert engine_dtype("auto", frozenset({"avx2", "avx512_bf16"}), has_gpu=False) == "auto"
    assert engine_dtype("auto", frozenset({"avx2"}), has_gpu=True) == "auto", "a GPU picks its own"
    assert engine_dtype("bfloat16", frozenset({"avx2"}), has_gpu=False) == "bfloat16", "an explicit choice stands"
    assert cpu_flags(tmp_path / "missing") == frozenset()
