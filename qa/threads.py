"""Thread settings for query-time encoding.

One short query encoded with torch's default thread pool takes 330-520 ms when the other
core is busy (the pool spins against it) and about 9 ms on one thread; batched indexing is
not hurt the same way. So the server encodes on ``QA_TORCH_THREADS`` threads (default 1)."""

from __future__ import annotations


def set_query_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)
