"""How a bare question becomes a prompt that both a base model and an instruct model answer briefly."""

from __future__ import annotations

# Two worked examples teach a base model the answer format. Measured on the labeled sets: adding one example
# per topic (region, arithmetic) made both default models worse on capitals (edge 0.24 -> 0.08, cloud
# 0.51 -> 0.11), because tiny models copy the surface of the examples.
FEW_SHOT_QA = (
    ("What is the capital of Italy?", "Rome"),
    ("What is the capital of Japan?", "Tokyo"),
)
FEW_SHOT_QA_PREFIX = "".join(f"Q: {q}\nA: {a}\n" for q, a in FEW_SHOT_QA)
QA_STOP = ("\n",)


def qa_prompt(question: str, context: list[tuple[str, str]] | None = None) -> str:
    """The few-shot prompt; `context` adds worked examples (e.g. cached answers to similar questions) last."""
    extra = "".join(f"Q: {q.strip()}\nA: {a.strip()}\n" for q, a in context or ())
    return f"{FEW_SHOT_QA_PREFIX}{extra}Q: {question.strip()}\nA:"
