"""How a bare question becomes a prompt that both a base model and an instruct model answer briefly."""

from __future__ import annotations

FEW_SHOT_QA_PREFIX = "Q: What is the capital of Italy?\nA: Rome\nQ: What is the capital of Japan?\nA: Tokyo\n"
QA_STOP = ("\n",)


def qa_prompt(question: str) -> str:
    return f"{FEW_SHOT_QA_PREFIX}Q: {question.strip()}\nA:"
