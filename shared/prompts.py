"""How a bare question becomes a prompt that both a base model and an instruct model answer briefly."""

from __future__ import annotations

# One example per kind of short factual question, so a base model learns the format, not one topic.
FEW_SHOT_QA = (
    ("What is the capital of Italy?", "Rome"),
    ("Which continent is Japan in?", "Asia"),
    ("What is 12 plus 5?", "17"),
)
FEW_SHOT_QA_PREFIX = "".join(f"Q: {q}\nA: {a}\n" for q, a in FEW_SHOT_QA)
QA_STOP = ("\n",)


def qa_prompt(question: str) -> str:
    return f"{FEW_SHOT_QA_PREFIX}Q: {question.strip()}\nA:"
