"""The verification rules on their own (pure logic; the engine's side is in test_verify.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cloud.backends.vllm_verify import accepted_prefix, draft_for_prompt, without_stops
from shared.types import DraftVerification, VerifyMode


@dataclass
class Lp:  # vLLM's Logprob: the token's log-prob and its rank in the cloud's distribution
    logprob: float
    rank: int
    decoded_token: str | None = None


def position(top: int, p_top: float, token: int | None = None, p_token: float = 0.0) -> dict[int, Lp]:
    entries = {top: Lp(math.log(p_top), 1, f"t{top}")}
    if token is not None and token != top:
        entries[token] = Lp(math.log(p_token), 2)
    return entries


def test_exact_keeps_the_prefix_of_the_clouds_own_choices():
    positions = [position(5, 0.9), position(6, 0.5), position(7, 0.6, token=9, p_token=0.35), position(8, 0.9)]
    verdict = accepted_prefix(positions, [5, 6, 9, 8], DraftVerification(VerifyMode.EXACT))
    assert verdict.kept == 2 and verdict.stopped == "draft token 3 of 4: the cloud chose 't7'"
    assert accepted_prefix(positions[:2], [5, 6], DraftVerification(VerifyMode.EXACT)).kept == 2


def test_lenient_keeps_a_token_at_least_alpha_times_as_likely_as_the_top():
    positions = [position(5, 0.9), position(7, 0.6, token=9, p_token=0.35), position(8, 0.6, token=1, p_token=0.1)]
    assert accepted_prefix(positions, [5, 9, 1], DraftVerification(VerifyMode.LENIENT, 0.5)).kept == 2
    assert accepted_prefix(positions, [5, 9, 1], DraftVerification(VerifyMode.LENIENT, 0.1)).kept == 3
    assert accepted_prefix(positions, [5, 9, 1], DraftVerification(VerifyMode.LENIENT, 0.7)).kept == 1


def test_a_token_outside_the_scored_alternatives_is_refused():
    assert accepted_prefix([position(5, 0.9)], [4], DraftVerification(VerifyMode.LENIENT, 0.01)).kept == 0


def test_the_draft_begins_as_the_clouds_answer_would():
    assert draft_for_prompt("Q: capital of France?\nA:", "Paris") == " Paris"
    assert draft_for_prompt("<|im_start|>assistant\n", " Paris") == "Paris"
    assert draft_for_prompt("", "  Paris") == "Paris"


class Chars:
    """A tokenizer with one token per character."""

    def decode(self, ids: list[int]) -> str:
        return "".join(chr(i) for i in ids)


def test_a_stop_string_inside_the_kept_prefix_is_left_to_the_continuation():
    ids = [ord(c) for c in "Paris\nQ: next"]
    assert without_stops(Chars(), ids, ("\nQ:",)) == len("Paris"), "nor the beginning of one: vLLM must generate it all"
    assert without_stops(Chars(), [ord(c) for c in "Paris\nQ"], ("\nQ:",)) == len("Paris")
    assert without_stops(Chars(), ids, ()) == len(ids)
    assert without_stops(Chars(), [ord("a"), 0xFFFD], ()) == 1, "never ends inside a character"
