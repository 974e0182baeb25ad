"""scripts/as_avx2.sh runs a command on an AVX-512 machine as an AVX2 one; importing the package changes nothing."""
import os
import subprocess
import sys

import pytest

from mnist_helpers import cpu_kind
from mnist_helpers.paths import repo_root

WRAPPER = "scripts/as_avx2.sh"


def _clean_env():
    return {k: v for k, v in os.environ.items() if k not in cpu_kind.AVX2_SWITCHES}


def test_importing_the_package_changes_no_environment_variable():
    code = ("import json, os; before = dict(os.environ); import mnist_helpers, mnist_helpers.web, "
            "mnist_helpers.results; print(json.dumps(dict(os.environ) == before))")
    done = subprocess.run([sys.executable, "-c", code], env=_clean_env(), capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "true"


def test_the_wrapper_sets_pytorchs_three_switches_and_nothing_else_does():
    text = (repo_root() / WRAPPER).read_text(encoding="utf-8")
    assert all(f"{name}={value}" in text for name, value in cpu_kind.AVX2_SWITCHES.items())
    assert cpu_kind.AS_AVX2 == f"bash {WRAPPER}"


def test_results_files_of_each_kind_have_their_own_suffix():
    assert cpu_kind.kind_suffix("AVX512") == ""
    assert cpu_kind.kind_suffix("AVX2") == cpu_kind.kind_suffix("AVX2 emulated on AVX512") == "_avx2"
    assert cpu_kind.kind_suffix("DEFAULT") == "_default"  # an Arm laptop's runs go to a file of their own
    assert set(cpu_kind.KIND_SUFFIXES) == {"", "_avx2"}


def test_the_wrapper_without_a_command_says_how_to_use_it():
    done = subprocess.run(["bash", WRAPPER], cwd=repo_root(), capture_output=True, text=True)
    assert done.returncode == 2 and "usage: bash scripts/as_avx2.sh COMMAND" in done.stderr


@pytest.mark.skipif(cpu_kind.hardware_kind() not in ("AVX512", "AVX2"), reason="needs an x86-64 CPU with AVX2 or AVX-512")
def test_the_wrapper_runs_python_as_avx2_and_the_results_say_so():
    code = ("import torch; from mnist_helpers.cpu_kind import command_prefix; "
            "from mnist_helpers.results import device_description\n"
            "print(torch.backends.cpu.get_cpu_capability(), '|', device_description('cpu'), '|', command_prefix())")
    done = subprocess.run(["bash", WRAPPER, sys.executable, "-c", code], cwd=repo_root(), env=_clean_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    capability, description, prefix = (part.strip() for part in done.stdout.split(" | "))
    assert capability == "AVX2"
    emulated = cpu_kind.hardware_kind() == "AVX512"
    assert description.endswith("AVX2 emulated on AVX512)" if emulated else "AVX2)")
    assert prefix == (f"bash {WRAPPER}" if emulated else "")
