"""A pytest plugin for the notebooks that nbval runs: pyproject.toml loads it for every run (-p tests.nbval_timeout)."""

# After a cell's code has finished, nbval waits at most 5 s, hard-coded, for each of the cell's output
# messages (nbval issue #231). On a busy 2-core machine, a training cell's last messages can take longer,
# and the cell then fails with "Timeout of 5 seconds exceeded waiting for output" although it ran.
# A cell that ends normally is not slowed by a longer wait: the wait stops at the kernel's idle message.
NBVAL_OUTPUT_TIMEOUT_SECONDS = 60


def pytest_collection_modifyitems(items):
    for item in items:
        if hasattr(item, "output_timeout"):  # nbval's notebook cells
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT_SECONDS
