"""Type aliases used throughout pynet's signatures.

``Float64``/``Int64``/``Float32`` are NumPy's scalar types, so ``Int64(10)``
and ``Float64(0.1)`` are ordinary NumPy scalars; plain Python ``int`` and
``float`` are accepted everywhere they are.
"""

from __future__ import annotations

import numpy
import numpy.typing

Float64 = numpy.float64
Float32 = numpy.float32
Int64 = numpy.int64
NDArray = numpy.typing.NDArray

__all__ = ["Float32", "Float64", "Int64", "NDArray"]
