"""Placeholders: one per value within a request, every format of a value, and restored whole when streamed."""

from __future__ import annotations

from edge.core.query import Query
from edge.core.redaction import PersonalData, Redaction
from shared.types import ChatMessage, EdgeContext

EMAIL, PHONE, NAME = "jane.doe@example.com", "+1 415-555-0132", "Jane Doe"


def _redaction() -> Redaction:
    r = Redaction(("Mail jane.doe@example.com",))
    r.add("email", EMAIL)
    r.add("phone", PHONE)
    r.add("person", NAME)
    return r


def test_same_value_same_placeholder_and_formats_of_a_number():
    r = _redaction()
    assert r.add("email", EMAIL) == "<EMAIL_1>"
    text = f"Write to {EMAIL} or call {PHONE} (or 14155550132, or 415.555.0132?). {EMAIL} again; Jane agreed."
    assert r.redact(f"call {PHONE}.") == "call <PHONE_1>."
    redacted = r.redact(text)
    assert "jane.doe" not in redacted and "555" not in redacted and "Jane" not in redacted
    assert redacted.count("<EMAIL_1>") == 2 and redacted.count("<PHONE_1>") == 3 and "<PERSON_2> agreed" in redacted
    assert r.kinds == ("email", "person", "phone")
    assert r.redact("JANE.DOE@EXAMPLE.COM") == "<EMAIL_1>"  # any case


def test_a_part_of_a_name_comes_back_as_that_part():
    r = Redaction()
    assert r.add("person", "Jordan Mason") == "<PERSON_1>"
    sent = r.redact("Jordan Mason flew to Jordan; Hi Mason.")
    assert sent == "<PERSON_1> flew to <PERSON_2>; Hi <PERSON_3>."
    assert r.restore(sent) == "Jordan Mason flew to Jordan; Hi Mason."


def test_placeholders_are_never_matched_inside():
    r = Redaction()
    email = r.add("email", EMAIL)
    r.add("person", "Email Phone")  # its parts spell the tags of other placeholders
    assert r.redact(f"{email} and Email and {EMAIL}") == "<EMAIL_1> and <PERSON_2> and <EMAIL_1>"


def test_placeholders_already_in_the_input_are_never_reused():
    r = Redaction(("keep <EMAIL_1> as typed",))
    assert r.add("email", EMAIL) == "<EMAIL_2>"
    assert r.restore("<EMAIL_1> and <EMAIL_2>") == f"<EMAIL_1> and {EMAIL}"


def test_a_placeholder_split_at_every_point_is_restored_whole():
    r = _redaction()
    answer = "Dear <PERSON_1>, I wrote to <EMAIL_1> and to <EMAIL_9>; call <PHONE_1> < 5 pm."
    expected = f"Dear {NAME}, I wrote to {EMAIL} and to <EMAIL_9>; call {PHONE} < 5 pm."
    for cut in range(len(answer) + 1):
        for second in range(cut, len(answer) + 1):
            restorer = r.restorer()
            pieces = [answer[:cut], answer[cut:second], answer[second:]]
            out = "".join(restorer.feed(p) for p in pieces) + restorer.flush()
            assert out == expected, (cut, second)


def test_a_query_leaves_redacted_its_history_and_draft_too():
    r = _redaction()
    history = (
        ChatMessage("user", f"My mail is {EMAIL}"),
        ChatMessage("assistant", "Noted."),
        ChatMessage("user", "Hi"),
    )
    query = Query(messages=history, privacy=PersonalData("redact", r, checked=True))
    request = query.escalation(EdgeContext(f"Reply to {NAME} at {EMAIL}", 0.2, question_embedding=(0.1,)))
    sent = [m.content for m in request.messages or ()] + [request.edge_context.draft_answer]
    assert not any(EMAIL in s or "Jane" in s for s in sent)
    assert request.edge_context.draft_answer == "Reply to <PERSON_1> at <EMAIL_1>"
    assert request.edge_context.question_embedding == () and request.edge_context.fleet_share == "off"
    stored = query.redacted()
    assert stored.request_id == query.request_id and not stored.privacy.found
    assert EMAIL not in stored.text and "<EMAIL_1>" in stored.text


def test_nothing_found_changes_nothing():
    query = Query("What is the capital of France?", privacy=PersonalData("redact", Redaction(), checked=True))
    assert query.redacted() is query and query.escalation().question == "What is the capital of France?"
    assert PersonalData("off", _redaction()).found is False  # an "off" policy acts on nothing it found
