"""Repository upkeep, run from a checkout: the notebook runner, the seed sweep, the README
generator, the Colab URL tool and the reader of the notebooks' model code. Not part of the
``mnist_helpers`` package that the notebooks import."""
