"""Fuzzing the daemon's HTTP API with hypothesis: every bad-input class gets a 4xx OpenAI error naming the field
(never a 5xx), and a good request succeeds right after. Runs against a real daemon process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = 6
CHAT = "/v1/chat/completions"


@dataclass(frozen=True)
class Case:
    body: bytes
    field: str  # the error's `param` or message must name it
    path: str = CHAT
    headers: dict[str, str] = field(default_factory=dict)


def good(**over) -> dict:
    return {"model": "tandem", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2, **over}


def chat(name: str, **over) -> Case:
    return Case(json.dumps(good(**over)).encode(), name)


def message(name: str, **over) -> Case:
    return chat(name, messages=[{"role": "user", "content": "Hi", **over}])


def tandem(name: str, value) -> Case:
    return chat(name, tandem=value)


def raw(name: str, text: str, path: str = CHAT) -> Case:
    return Case(text.encode(), name, path)


text = st.text(min_size=1, max_size=30)


def _not_a_number(t: str) -> bool:
    try:
        float(t)
    except ValueError:
        return True
    return False


not_int = st.one_of(
    text.filter(_not_a_number),
    st.floats(0.1, 0.9),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(text, st.integers(), max_size=2),
)
not_str = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.integers(), max_size=3))
not_bool = st.one_of(
    st.dictionaries(text, st.integers(), max_size=2),
    st.lists(st.integers(), min_size=1, max_size=3),
    st.floats(1.5, 100),
)
non_finite = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"])

CLASSES: dict[str, st.SearchStrategy[Case]] = {
    # The body itself.
    "invalid utf-8 body": st.binary(min_size=1, max_size=50).map(
        lambda b: Case(b'{"model": "' + b"\xff\xfe" + b + b'"}', "body")
    ),
    "not json": text.map(lambda t: raw("body", "{" + t)),
    "json not an object": st.one_of(st.lists(st.integers(), max_size=3), st.integers(), text).map(
        lambda v: Case(json.dumps(v).encode(), "body")
    ),
    "deeply nested json": st.integers(5_000, 100_000).map(
        lambda d: raw("body", '{"model": ' + "[" * d + "]" * d + "}")
    ),
    "body over the limit": st.integers(1_000_001, 1_500_000).map(
        lambda n: chat("body", messages=[{"role": "user", "content": "x" * n}])
    ),
    "lone surrogate": text.map(lambda t: message("content", content=t + "\ud800")),  # json.dumps escapes it
    # model.
    "model wrong type": not_str.map(lambda v: chat("model", model=v)),
    "model unknown": text.filter(lambda m: m != "tandem").map(lambda m: chat("model", model=m)),
    # messages.
    "messages missing": st.just(Case(b'{"model": "tandem"}', "messages")),
    "messages wrong type": not_str.map(lambda v: chat("messages", messages=v)),
    "messages empty": st.just(chat("messages", messages=[])),
    "role unknown": text.filter(lambda r: r not in ("system", "user", "assistant")).map(
        lambda r: message("role", role=r)
    ),
    "content wrong type": not_str.map(lambda v: message("content", content=v)),
    "content blank": st.text(alphabet=" \n\t", max_size=5).map(lambda c: message("content", content=c)),
    "nul in content": text.map(lambda c: message("content", content=c + "\x00")),
    "megabyte prompt": st.integers(20_001, 900_000).map(lambda n: message("messages", content="a" * n)),
    # Sampling.
    "max_tokens not positive": st.integers(max_value=0).map(lambda n: chat("max_tokens", max_tokens=n)),
    "max_tokens huge": st.integers(100_001, 10**30).map(lambda n: chat("max_tokens", max_tokens=n)),
    "max_tokens wrong type": not_int.map(lambda v: chat("max_tokens", max_tokens=v)),
    "max_completion_tokens not positive": st.integers(max_value=0).map(
        lambda n: chat("max_completion_tokens", max_completion_tokens=n)
    ),
    "temperature out of range": st.one_of(
        st.floats(max_value=-1e-6), st.floats(min_value=2.01, allow_infinity=False)
    ).map(lambda t: chat("temperature", temperature=t)),
    "temperature not finite": non_finite.map(
        lambda v: raw(
            "temperature",
            f'{{"model": "tandem", "messages": [{{"role": "user", "content": "Hi"}}], "temperature": {v}}}',
        )
    ),
    "top_p out of range": st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.01, allow_infinity=False)).map(
        lambda p: chat("top_p", top_p=p)
    ),
    "stop too many": st.integers(5, 5_000).map(lambda n: chat("stop", stop=["x"] * n)),
    "stop empty string": st.just(chat("stop", stop=["ok", ""])),
    "stop wrong type": st.one_of(st.integers(), st.dictionaries(text, text, max_size=2)).map(
        lambda v: chat("stop", stop=v)
    ),
    "stop too long": st.integers(257, 50_000).map(lambda n: chat("stop", stop=["s" * n])),
    "seed out of range": st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64)).map(
        lambda s: chat("seed", seed=s)
    ),
    "n above one": st.integers(2, 10**6).map(lambda n: chat("n", n=n)),
    "stream wrong type": not_bool.map(lambda v: chat("stream", stream=v)),
    "logprobs wrong type": not_bool.map(lambda v: chat("logprobs", logprobs=v)),
    "top_logprobs out of range": st.one_of(st.integers(max_value=-1), st.integers(min_value=21)).map(
        lambda n: chat("top_logprobs", top_logprobs=n)
    ),
    # Tandem's own extension.
    "tandem wrong type": not_str.filter(lambda v: not isinstance(v, dict)).map(lambda v: tandem("tandem", v)),
    "route unknown": text.filter(lambda r: r not in ("auto", "edge", "cloud")).map(
        lambda r: tandem("route", {"route": r})
    ),
    "threshold out of range": st.one_of(
        st.floats(max_value=-1e-6), st.floats(min_value=1.01, allow_infinity=False)
    ).map(lambda t: tandem("threshold", {"threshold": t})),
    "tandem unknown key": text.filter(lambda k: k not in ("route", "threshold")).map(lambda k: tandem(k, {k: 1})),
    # Other endpoints.
    "completion prompt list": st.integers(2, 50).map(
        lambda n: Case(json.dumps({"model": "tandem", "prompt": ["a"] * n}).encode(), "prompt", "/v1/completions")
    ),
    "completion echo": st.just(
        Case(json.dumps({"model": "tandem", "prompt": "a", "echo": True}).encode(), "echo", "/v1/completions")
    ),
    "completion logprobs over 5": st.integers(6, 10**6).map(
        lambda n: Case(
            json.dumps({"model": "tandem", "prompt": "a", "logprobs": n}).encode(), "logprobs", "/v1/completions"
        )
    ),
    "feedback correct not bool": not_bool.map(
        lambda v: Case(json.dumps({"response_id": "x", "correct": v}).encode(), "correct", "/v1/tandem/feedback")
    ),
    "feedback id too long": st.integers(201, 9_000).map(
        lambda n: Case(
            json.dumps({"response_id": "r" * n, "correct": True}).encode(), "response_id", "/v1/tandem/feedback"
        )
    ),
    # Headers.
    "oversized header": st.integers(70_000, 200_000).map(
        lambda n: Case(json.dumps(good()).encode(), "header", headers={"x-pad": "p" * n})
    ),
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_bad_input_class_is_refused_naming_the_field(daemon, name):
    http = httpx.Client(base_url=daemon.base_url, timeout=30)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(CLASSES[name])
    def refused(case: Case) -> None:
        headers = {"content-type": "application/json", **case.headers}
        reply = http.post(case.path, content=case.body, headers=headers)
        assert 400 <= reply.status_code < 500, f"{name}: {reply.status_code} {reply.text[:300]}"
        error = reply.json()["error"]
        named = f"{error.get('param') or ''} {error['message']}"
        assert case.field in named, f"{name}: the error must name {case.field!r}: {error}"

    with http:
        refused()
        after = http.post(CHAT, json=good(tandem={"route": "edge"}))
        assert after.status_code == 200, "a good request succeeds right after"
