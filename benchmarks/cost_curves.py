"""Accuracy against cloud cost with draft verification off and on, per estimator (edge.calibration.costs).

The escalations of a labeled run verified the edge's drafts as the daemon does by default ([edge.uplink]
verify_draft): each curve prices the same ranked escalations unverified and verified, at the [cost] defaults.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.calibration.costs import verification_savings
from edge.calibration.curves import cascade_curve, threshold_for_share
from edge.calibration.outcomes import Outcome
from shared.config import CostConfig

BUDGET_SHARE = 0.5  # the unverified budget compared: escalating this share


def verification_by_estimator(outcomes: list[Outcome], named: dict[str, np.ndarray]) -> dict[str, dict]:
    edge_ok = np.array([o.edge_correct for o in outcomes])
    cloud_ok = np.array([o.cloud_correct for o in outcomes])
    found = {}
    for name, scores in named.items():
        threshold = threshold_for_share(cascade_curve(scores, edge_ok, cloud_ok), BUDGET_SHARE).threshold
        found[name] = verification_savings(outcomes, scores, threshold, CostConfig())
    return found


def print_verification(by_estimator: dict[str, dict]) -> None:
    print(f"draft verification: the cloud cost of escalating a share of {BUDGET_SHARE:.2f} unverified, spent verified")
    head = f"{'estimator':<22}{'share':>7}{'acc':>7}{'cost off':>11}{'verified':>11}{'kept/draft':>12}"
    print(f"{head}{'buys':>7}{'acc':>7}")
    for name, v in by_estimator.items():
        cost, kept, bought = v["cost_per_question"], v["kept_draft_tokens"], v["same_budget_verified"]
        print(
            f"{name:<22}{v['cloud_share']:>7.3f}{v['accuracy']:>7.3f}{cost['off']:>11.7f}{cost['verified']:>11.7f}"
            f"{kept['kept']:>6}/{kept['drafted']:<5}{bought['cloud_share']:>7.3f}{bought['accuracy']:>7.3f}"
        )


def plot_cost(by_estimator: dict[str, dict], names: tuple[str, ...], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for name in (n for n in names if n in by_estimator):
        for mode, style in (("off", "--"), ("verified", "-")):
            cost, acc = zip(*[(p[1], p[2]) for p in by_estimator[name]["curves"][mode]], strict=True)
            ax.plot(cost, acc, style, label=f"{name}, verification {mode}")
    ax.set_xlabel("cloud cost per question ([cost] defaults)")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy against cloud cost, draft verification off and on")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
