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


def test_contrasts_that_name_the_same_things_are_not_served_the_cached_answer(oai, daemon):
    for cached, contrast in (
        ("Is a tomato a fruit?", "Is a tomato not a fruit?"),
        ("What is 7 minus 3?", "What is 3 minus 7?"),
    ):
        ask(oai, cached)
        _, asked = ask(oai, contrast)
        assert asked["served_by"] == "cloud", f"{contrast!r} must not get {cached!r}'s answer"
    _, para = ask(oai, "Is the tomato a fruit?")
    assert para["served_by"] == "cache"
    hits = daemon.healthz()["namespaces"][""]["cache_hits"]
    assert hits["audits"]["eligible"] >= 1, "every semantic hit is considered for an audit"
    assert hits["bound"]["threshold"] >= 0.9 and hits["bound"]["max_error"] == 0.01
