"""MNIST_CPU_ISA: the one switch that runs an AVX-512 machine as an AVX2 one."""
import os
import subprocess
import sys

import pytest

from mnist_helpers import cpu_kind


def test_the_switch_sets_pytorchs_three_variables():
    env = {"MNIST_CPU_ISA": "AVX2"}
    assert cpu_kind.apply_from_env(env) == "avx2"
    assert env == {"MNIST_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                   "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
    for unset in ({}, {"MNIST_CPU_ISA": "native"}, {"MNIST_CPU_ISA": " "}):
        assert cpu_kind.apply_from_env(unset) is None and "ATEN_CPU_CAPABILITY" not in unset


def test_an_unknown_kind_or_a_conflicting_variable_raises():
    with pytest.raises(ValueError, match="must be 'native' or one of avx2; got 'avx512'"):
        cpu_kind.apply_from_env({"MNIST_CPU_ISA": "avx512"})
    with pytest.raises(ValueError, match="needs \\$ONEDNN_MAX_CPU_ISA=AVX2, but it is set to 'AVX512_CORE'"):
        cpu_kind.apply_from_env({"MNIST_CPU_ISA": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"})


def test_results_files_of_each_kind_have_their_own_suffix():
    assert cpu_kind.kind_suffix("AVX512") == ""
    assert cpu_kind.kind_suffix("AVX2") == cpu_kind.kind_suffix("AVX2 emulated on AVX512") == "_avx2"
    assert cpu_kind.kind_suffix("DEFAULT") == "_default"  # an Arm laptop's runs go to a file of their own
    assert set(cpu_kind.KIND_SUFFIXES) == {"", "_avx2"}


def _python(code, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("MNIST_CPU_ISA", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")}
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True)


@pytest.mark.skipif(cpu_kind.hardware_kind() not in ("AVX512", "AVX2"), reason="needs an x86-64 CPU with AVX2 or AVX-512")
def test_importing_mnist_helpers_runs_as_avx2_and_says_so():
    done = _python("import torch, mnist_helpers; from mnist_helpers.results import device_description\n"
                   "print(torch.backends.cpu.get_cpu_capability(), '|', device_description('cpu'))",
                   MNIST_CPU_ISA="avx2")
    assert done.returncode == 0, done.stderr
    capability, description = done.stdout.strip().split(" | ")
    assert capability == "AVX2"
    assert description.endswith("AVX2)" if cpu_kind.hardware_kind() == "AVX2" else "AVX2 emulated on AVX512)")


@pytest.mark.skipif(cpu_kind.hardware_kind() != "AVX512", reason="an AVX-512 CPU")
def test_a_switch_read_too_late_is_an_error_that_says_what_to_do():
    done = _python("import torch; torch.ones(2) + 1; import mnist_helpers", MNIST_CPU_ISA="avx2")
    assert done.returncode != 0
    assert "Set MNIST_CPU_ISA before starting Python or Jupyter" in done.stderr
