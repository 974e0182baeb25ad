"""Where the MNIST files come from and how they are checked: the SHA-256 pins, the download sources,
the IDX format and the safe reading of the PyPI copy. ``mnist_helpers.data`` is the front door."""
