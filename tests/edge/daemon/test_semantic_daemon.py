"""Semantic hit and guarded miss through the real daemon and the real cloud."""

from __future__ import annotations


def ask(oai, question: str) -> tuple[str, dict]:
    reply = oai.chat.completions.create(
        model="tandem", messages=[{"role": "user", "content": question}], extra_body={"tandem": {"threshold": 1.0}}
    )
    return reply.choices[0].message.content, reply.model_extra["tandem"]


def test_paraphrase_served_from_cache_but_other_entity_is_not(oai):
    answer, first = ask(oai, "What is the capital of Lithuania?")
    assert first["served_by"] == "cloud"
    again, para = ask(oai, "what's Lithuania's capital city?")
    assert para["served_by"] == "cache" and again == answer
    assert para["cache_similarity"] >= 0.9
    _, contrast = ask(oai, "What is the capital of Latvia?")
    assert contrast["served_by"] == "cloud", "a different entity must not be served the cached answer"
