"""`tandem-edge calibrate`'s report as a table: every variant, the simple choices, and what was written."""

from __future__ import annotations

import json


def _variant_rows(report: dict, key: str, target: float) -> None:
    print(
        f"{'estimator':<14}{'router':>7}{'threshold':>10}{'AUROC':>7}{'calib share':>12}{'calib acc':>10}"
        f"{'held share':>11}{'held acc':>9}{'error':>8}{'vs random':>10}"
    )
    for r in report["estimators"]:
        c, h = r["calibration"], r["held_out"]
        error = h[key] - target if key in h else r["risk"]["held_out_loss"] - target
        flag = "" if r["signal"] else "  worse than chance: not a signal"
        print(
            f"{r['estimator']:<14}{'on' if r['router'] else 'off':>7}{r['threshold']:>10.4f}{r['auroc']:>7.3f}"
            f"{c['cloud_share']:>12.3f}{c['accuracy']:>10.3f}{h['cloud_share']:>11.3f}{h['accuracy']:>9.3f}"
            f"{error:>+8.3f}{r['gain_over_random']:>+10.3f}{flag}"
        )
        if "risk" in r:
            risk = r["risk"]
            print(
                f"{'':<14}loss bound {risk['loss_upper_bound']:.4f} ({risk['losses']} losses in {risk['questions']}), "
                f"{'holds' if risk['held'] else 'not reachable: everything escalates'}; held-out loss "
                f"{risk['held_out_loss']:.4f} {'<=' if risk['held_out_loss'] <= target else '>'} {target}"
            )


def _verification_line(report: dict) -> None:
    v = report.get("verification")
    if v is None or v["mode"] == "off":
        return
    cost, kept, bought = v["cost_per_question"], v["kept_draft_tokens"], v["same_budget_verified"]
    print(
        f"draft verification ({v['mode']}) at held-out share {v['cloud_share']:.3f}: cloud cost per question "
        f"{cost['off']:.6f} unverified, {cost['verified']:.6f} verified ({kept['kept']} of {kept['drafted']} draft "
        f"tokens kept); the unverified budget buys share {bought['cloud_share']:.3f} verified, accuracy "
        f"{bought['accuracy']:.3f} (against {v['accuracy']:.3f})"
    )


def print_report(report: dict) -> None:
    ((key, target),) = report["target"].items()
    print(
        f"target {key} = {target}; calibration {report['questions']['calibration']} questions, "
        f"held-out {report['questions']['held_out']}"
    )
    _variant_rows(report, key, target)
    print("shares and accuracies are of the served policy: router gates and mix replayed, nominal device")
    gap = report["gap_recovered_held_out"]
    print(
        f"held-out accuracy: edge only {report['edge_only_accuracy_held_out']:.3f}, cloud only "
        f"{report['cloud_only_accuracy_held_out']:.3f}; at the chosen share random "
        f"{report['random_accuracy_held_out']:.3f}, "
        f"oracle {report['oracle_accuracy_held_out']:.3f}; gap recovered {'-' if gap is None else f'{gap:+.2f}'}"
    )
    _verification_line(report)
    router = "router on" if report["served_policy"]["router"] else "router off"
    print(f"chosen: {report['chosen']} ({router}), the best held-out gain over random escalation")
    if report["objection"]:
        print(f"on held-out it is {report['objection']}.")
        shares = report["shares_without_objection"]
        print(
            f"the {report['better_side']} alone does better; "
            + (f"shares where this policy does beat them: {shares}; " if shares else "")
            + "--force writes the policy anyway, --fallback writes the better side alone"
        )
    if "not_written" in report:
        print("nothing written")
    elif "wrote_fallback" in report:
        print(f"wrote the {report['wrote_fallback']} alone to {report['written_to']}")
    elif "written_to" in report:
        held = report["holds_cloud_share"]
        hold = f", target share {held} held online" if held is not None else ""
        print(f"wrote estimator={report['chosen']}, its threshold{hold} to {report['written_to']}")
    print(json.dumps({"chosen": report["chosen"]}))
