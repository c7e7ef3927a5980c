"""Evaluation of the question-answering service over a JSONL Q&A set: answer accuracy,
retrieval, cited evidence, refusals and latency, run in-process or against a running
service. ``python -m eval --help`` (or ``qa eval --help``)."""
