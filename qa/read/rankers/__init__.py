"""Rankers, chosen by name (``QA_RANKER``): what orders the retrieved sentences by how
likely each holds the answer (qa.read.roles.Ranker). A ranker is one module here and one line
in ``RANKERS``; it names its reader (qa.read.readers) and its refusal model (qa.read.abstain)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from qa.errors import TrainedModelError
from qa.read.cross import WEIGHTS, load_cross_model
from qa.read.rankers.cross import CrossRanker
from qa.read.rankers.heuristic import HeuristicRanker
from qa.read.roles import Ranker
from qa.settings import Settings

log = logging.getLogger(__name__)

RANKERS: dict[str, Callable[[Settings], Ranker]] = {
    "heuristic": lambda settings: HeuristicRanker(),
    "cross": lambda settings: CrossRanker(
        load_cross_model(
            settings.trained_model_dir,
            settings.runtime,
            settings.onnx_dir,
            settings.torch_threads,
        )
    ),
}


def chosen(settings: Settings) -> str:
    """The ranker the settings ask for: ``QA_RANKER``, or by default the
    trained cross-encoder when it is wanted and its weights are there, else the fitted
    heuristics."""
    if settings.ranker:
        return settings.ranker
    if not settings.trained_model:
        return "heuristic"
    if not (settings.trained_model_dir / WEIGHTS).is_file():
        log.info(
            "no trained model at %s: sentences and spans are chosen by the heuristics",
            settings.trained_model_dir,
        )
        return "heuristic"
    return "cross"


def ranker(name: str, settings: Settings) -> Ranker:
    if name not in RANKERS:
        raise TrainedModelError(
            f"unknown ranker {name!r} (QA_RANKER): choose one of " + ", ".join(RANKERS)
        )
    return RANKERS[name](settings)
