"""The course's upkeep, run from a checkout: the notebook runner, the README and docs tables, the reader of the
notebooks' model code, the example and stress digits, the Colab links and the drawing page in a headless browser.
Not part of the ``mnist_helpers`` package that the notebooks import; the research in ``lab/`` may import it."""
