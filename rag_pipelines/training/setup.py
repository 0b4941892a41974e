"""What both trainers share: quiet, seeded set-up, AdamW with warm-up, the step, the summary."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

Progress = Callable[[int, int], None]


def quiet_and_seeded(seed: int) -> None:
    """No Hugging Face progress bars or warnings; torch seeded for reproducible runs."""
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.manual_seed(seed)


def optimizer_with_warmup(params: Iterable[Any], total_steps: int) -> tuple[Any, Any]:
    """AdamW (weight decay 0.01) and a schedule: linear warm-up over 10%, then linear decay."""
    import torch

    optimizer = torch.optim.AdamW(params, weight_decay=0.01)
    warmup = max(1, total_steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / max(1, total_steps - warmup))),
    )
    return optimizer, scheduler


def take_step(loss: Any, model: Any, optimizer: Any, scheduler: Any) -> float:
    """Back-propagate, clip gradients to norm 1, step optimizer and schedule; the loss value."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    return float(loss.detach())


def summary(pairs: int, steps: int, last_loss: float, started: float) -> dict[str, float]:
    """What a training run reports."""
    return {
        "pairs": pairs,
        "steps": steps,
        "final_loss": round(last_loss, 4),
        "seconds": round(time.perf_counter() - started, 1),
    }
