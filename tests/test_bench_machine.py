"""Benchmarks name the CPU their figures come from, with the instruction sets that decide
the encoders' speed."""

from bench.machine import FLAGS, cpu, describe

EPYC = """processor	: 0
model name	: AMD EPYC 7B13
flags		: fpu sse sse2 avx avx2 fma
processor	: 1
model name	: AMD EPYC 7B13
flags		: fpu sse sse2 avx avx2 fma
"""
SAPPHIRE = """model name	: Intel(R) Xeon(R) Platinum 8481C
flags		: avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
"""


def test_an_avx2_cpu_is_named_without_native_bf16():
    line = describe(EPYC)
    assert line.startswith("AMD EPYC 7B13, ")
    assert "(avx2; no native bf16)" in line


def test_a_cpu_with_amx_is_named_with_its_flags_and_native_bf16():
    line = describe(SAPPHIRE)
    assert "Platinum 8481C" in line
    assert "avx512_bf16, amx_bf16, amx_tile, amx_int8; native bf16" in line


def test_this_machine_is_described():
    line = cpu()
    assert "cores (" in line and any(f in line for f in (*FLAGS, "none of"))
