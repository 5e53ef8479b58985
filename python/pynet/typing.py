"""Type aliases used throughout pynet's signatures.

``Float64``/``Int64``/``Float32`` are NumPy's scalar types (not new
classes), so ``Int64(10)`` and ``Float64(0.1)`` are ordinary NumPy scalars;
plain Python ``int`` and ``float`` are accepted everywhere they are. They
exist so the original PyNet's annotated snippets
(``InputLayer(Int64(10), None)``, ``network: NeuralNetwork = ...``) run
unchanged.

Example:
    ```python
    from pynet.typing import Float64, Int64, NDArray

    predictions: NDArray = network.predict(test_inputs)
    network.train(x, y, Int64(5), Int64(32))
    ```
"""

from __future__ import annotations

import numpy
from numpy.typing import NDArray

Float64 = numpy.float64
"""``numpy.float64``: a double-precision real number (the default precision)."""
Float32 = numpy.float32
"""``numpy.float32``: a single-precision real number; also accepted as
``NeuralNetwork(..., dtype=Float32)``."""
Int64 = numpy.int64
"""``numpy.int64``: a 64-bit integer (node counts, epochs, batch sizes)."""
# NDArray is numpy.typing.NDArray itself, imported above so that type
# checkers keep it generic: a NumPy array, optionally of a given scalar type
# (``NDArray[Float64]``).

__all__ = ["Float32", "Float64", "Int64", "NDArray"]
