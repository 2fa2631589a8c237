"""A bare question is rendered by the cloud in its model's style, with that style's stops (pure logic)."""

from __future__ import annotations

import pytest

from cloud.validation import RequestLimits, parse_generate_request
from shared.prompts import CHAT_INSTRUCTION, QA_STOP, qa_prompt
from shared.rpc import inference_pb2 as pb


def limits(style) -> RequestLimits:
    return RequestLimits("m", max_output_tokens=64, max_top_logprobs=5, max_context_tokens=512, prompt_style=style)


def question(text: str, stop: tuple[str, ...] = ()) -> pb.GenerateRequest:
    return pb.GenerateRequest(question=text, sampling=pb.SamplingParams(max_tokens=8, stop=list(stop)))


def test_a_few_shot_model_gets_the_few_shot_prompt_and_its_stop():
    req = parse_generate_request(question("What is the capital of Peru? ", stop=("###",)), limits("few_shot_qa"))
    assert req.prompt == qa_prompt("What is the capital of Peru?") and req.messages is None
    assert req.sampling.stop == ("###", *QA_STOP), "the client's stops first, the rendering's added once"


def test_a_chat_model_gets_the_short_answer_instruction_and_the_question_and_no_added_stop():
    req = parse_generate_request(question("What is the capital of Peru?"), limits("chat"))
    assert req.prompt is None
    assert [(m.role, m.content) for m in req.messages or ()] == [
        ("system", CHAT_INSTRUCTION),
        ("user", "What is the capital of Peru?"),
    ]
    assert req.sampling.stop == ()


@pytest.mark.parametrize("stop", [QA_STOP, ("\n", "\n")])
def test_stops_are_not_repeated(stop):
    assert parse_generate_request(question("Q?", stop=stop), limits("few_shot_qa")).sampling.stop == ("\n",)
