"""Rendering chat messages to a prompt, with a fallback for base models that ship no template."""

from __future__ import annotations

from jinja2.sandbox import ImmutableSandboxedEnvironment

from shared.types import ChatMessage

# Base (not instruction-tuned) models get a Q/A transcript: the format their few-shot prompts use.
FALLBACK_CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ m['content'] }}\n\n"
    "{% elif m['role'] == 'user' %}Q: {{ m['content'] }}\n"
    "{% else %}A: {{ m['content'] }}\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}A:{% endif %}"
)

_ENV = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)


def render_chat(
    messages: tuple[ChatMessage, ...], template: str | None, bos_token: str = "", eos_token: str = ""
) -> str:
    return _ENV.from_string(template or FALLBACK_CHAT_TEMPLATE).render(
        messages=[{"role": m.role, "content": m.content} for m in messages],
        add_generation_prompt=True,
        bos_token=bos_token,
        eos_token=eos_token,
    )
