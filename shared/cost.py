"""What an answer cost: cloud tokens at a per-1k price plus edge compute time at a per-second price."""

from __future__ import annotations

from shared.config import CostConfig


def answer_cost(cost: CostConfig, edge_seconds: float, cloud_prompt_tokens: int, cloud_completion_tokens: int) -> float:
    return (
        edge_seconds * cost.edge_per_second
        + cloud_prompt_tokens / 1000 * cost.cloud_input_per_1k
        + cloud_completion_tokens / 1000 * cost.cloud_output_per_1k
    )
