"""Fitting and training the models the read path uses: the heuristics' logistic weights
(``fit_evidence``, ``fit_reader``, ``fit_abstain``) and the cross-encoder (``train_cross``).
Imports run one way: train -> eval -> qa -> index."""
