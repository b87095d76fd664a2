"""Hardware fit: the sizing analyzer's plan for exactly the profile's GPU budget.

The audit's sizing report plans every catalogue GPU with a free GPU count; the
policy question is narrower ("does it run on our 8 × H100 at our precision?"),
so this re-plans the same architecture, weights and KV cache with the budget's
GPU, count and precision fixed — the arithmetic stays the sizing analyzer's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import Status

if TYPE_CHECKING:
    from ..sizing import SizingReport
    from .profile import GpuBudget


def fit(report: SizingReport, budget: GpuBudget) -> tuple[Status, str, str]:
    """(status, reason, arithmetic) for a ``sizing.SizingReport`` and a ``GpuBudget``."""
    from .. import sizing

    gpu = sizing.find_gpu(budget.gpu)
    precision = (budget.precision or "native").lower()
    plan = sizing.plan_one(
        report.architecture, report.weights, report.kv, gpu, precision,
        context=budget.context or report.context, concurrency=budget.concurrency,
        gpu_count=budget.count, model=report.model,
    )
    where = f"{budget.count} × {gpu.key} at {plan.precision_label}"
    if not plan.fits:
        problem = plan.layout.problem
        return (Status.BLOCKED,
                f"does not fit the GPU budget ({where})" + (f": {problem}" if problem else ""),
                plan.arithmetic)
    if not plan.meets_concurrency:
        return (Status.REVIEW,
                f"the weights fit {where}, but only {plan.layout.max_concurrency} of the "
                f"{budget.concurrency} sequences asked fit at {plan.context:,} tokens",
                plan.arithmetic)
    return (Status.CLEAR,
            f"fits the GPU budget ({where}); {plan.layout.max_concurrency} concurrent "
            f"sequence(s) of {plan.context:,} tokens", plan.arithmetic)
