"""How a bare question becomes a prompt that both a base model and an instruct model answer briefly."""

from __future__ import annotations

from typing import Literal

from shared.types import ChatMessage

PromptStyle = Literal["few_shot_qa", "chat"]

# Two worked examples teach a base model the answer format. Measured on the labeled sets: adding one example
# per topic (region, arithmetic) made both default models worse on capitals (edge 0.24 -> 0.08, cloud
# 0.51 -> 0.11), because tiny models copy the surface of the examples.
FEW_SHOT_QA = (
    ("What is the capital of Italy?", "Rome"),
    ("What is the capital of Japan?", "Tokyo"),
)
FEW_SHOT_QA_PREFIX = "".join(f"Q: {q}\nA: {a}\n" for q, a in FEW_SHOT_QA)
QA_STOP = ("\n",)
# An instruct model answers a bare question in a sentence; the cascade grades and caches short answers.
CHAT_INSTRUCTION = "Answer with only the answer itself (a name, word or number), not a sentence."


def qa_prompt(question: str, context: list[tuple[str, str]] | None = None) -> str:
    """The few-shot prompt; `context` adds worked examples (e.g. cached answers to similar questions) last."""
    extra = "".join(f"Q: {q.strip()}\nA: {a.strip()}\n" for q, a in context or ())
    return f"{FEW_SHOT_QA_PREFIX}{extra}Q: {question.strip()}\nA:"


def render_question(
    question: str, style: PromptStyle, context: list[tuple[str, str]] | None = None
) -> tuple[str | None, tuple[ChatMessage, ...] | None, tuple[str, ...]]:
    """(prompt, messages, stop): exactly one of prompt and messages, and the stop strings the rendering needs.

    The edge renders its own questions and the cloud the edge's escalated ones with this, each in its model's style.
    """
    if style == "chat":
        return (
            None,
            (ChatMessage("system", CHAT_INSTRUCTION), ChatMessage("user", question.strip())),
            style_stops(style),
        )
    return qa_prompt(question, context), None, style_stops(style)


def style_stops(style: PromptStyle) -> tuple[str, ...]:
    """The stop strings a rendering needs: a few-shot answer ends at its line."""
    return QA_STOP if style == "few_shot_qa" else ()
