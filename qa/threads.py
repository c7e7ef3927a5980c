"""Thread settings for answering questions.

One short query encoded with torch's default thread pool takes 330-520 ms when the other
core is busy (the pool spins against it) and about 9 ms on one thread; spaCy's parser,
through OpenBLAS, is hurt the same way (a /ask on dev13 with a second process busy: 78 ms
with the default pools, 38 ms with one thread). Batched indexing is not hurt the same way.
So the service answers on ``QA_TORCH_THREADS`` threads (default 1), for the encoders (torch,
or ONNX Runtime's sessions, given the count when they open: index/graphs.py) and for the
BLAS and OpenMP pools alike."""

from __future__ import annotations


def set_query_threads(n: int, runtime: str = "torch") -> None:
    from threadpoolctl import threadpool_limits

    if runtime == "torch":  # imported here only when it runs the encoders (1-2 s)
        import torch

        torch.set_num_threads(n)
    threadpool_limits(limits=n)
