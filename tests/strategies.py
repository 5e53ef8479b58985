"""Hypothesis strategies shared by the reliability suites.

The central object is ``ArrayArg``: something a user might pass where pynet
expects an array of real numbers — a NumPy array of any dtype and memory
layout (C or Fortran order, strided and negative-stride views, read-only,
zero-stride broadcasts, unaligned buffers, ``np.memmap``), a nested Python
list, a scalar, ``None``, a string, a ragged list. Each one knows what NumPy
makes of it (``kind_ok``: an array of real numbers; ``finite``; and
``canonical``: the same data as a C-contiguous float64 array), so a property
can say what pynet must do with it without re-implementing pynet.
"""

from __future__ import annotations

import atexit
import itertools
import math
import numbers
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable, Optional, Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# ----------------------------------------------------------------------------
# Scalars
# ----------------------------------------------------------------------------

TINY = 5e-324  # the smallest positive denormal
SMALLEST_NORMAL = 2.2250738585072014e-308
BIGGEST = 1.7976931348623157e308

EXTREME_FLOATS = [
    0.0, -0.0, 1.0, -1.0, 0.5,
    TINY, -TINY, 1e-320, SMALLEST_NORMAL, -SMALLEST_NORMAL, 1e-300,
    1e6, -1e6, 65504.0, 1e38, 3.5e38, 1e40,
    1e300, -1e300, BIGGEST, -BIGGEST,
]
NON_FINITE = [math.nan, math.inf, -math.inf]

#: Values whose every sum, product and square stays far from overflow, plus
#: denormals: "the math is finite" for everything pynet computes from them.
moderate_floats = st.one_of(
    st.floats(-10, 10, allow_nan=False),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, TINY, -TINY, 1e-320, SMALLEST_NORMAL, 1e-300, 1e6, -1e6]),
    st.floats(-1e6, 1e6, allow_nan=False),
)

#: Any finite float64, biased towards the extremes.
finite_floats = st.one_of(
    moderate_floats,
    st.sampled_from(EXTREME_FLOATS),
    st.floats(allow_nan=False, allow_infinity=False),
)

#: Anything a float64 can hold.
any_floats = st.one_of(
    finite_floats,
    finite_floats,
    finite_floats,
    st.sampled_from(NON_FINITE),
)

VALUE_STRATEGIES = {"moderate": moderate_floats, "finite": finite_floats, "any": any_floats}


# ----------------------------------------------------------------------------
# Arrays of every kind and layout
# ----------------------------------------------------------------------------

REAL_DTYPES = [
    np.dtype(np.bool_),
    np.dtype(np.int8),
    np.dtype(np.int64),
    np.dtype(np.uint8),
    np.dtype(np.float16),
    np.dtype(np.float32),
    np.dtype(np.float64),
    np.dtype(">f8"),  # float64 in the non-native byte order
    np.dtype(">i4"),
]
WRONG_DTYPES = [
    np.dtype(np.complex128),
    np.dtype(np.complex64),
    np.dtype(object),
    np.dtype("U12"),
    np.dtype("S12"),
    np.dtype("datetime64[s]"),
    np.dtype("timedelta64[ms]"),
    np.dtype([("a", "f8"), ("b", "f8")]),
]

LAYOUTS = [
    "C",
    "F",
    "strided",
    "negative-strides",
    "transposed-view",
    "read-only",
    "broadcast",
    "unaligned",
    "memmap",
    "list",
]

_MEMMAP_DIR: Optional[str] = None
_MEMMAP_COUNTER = itertools.count()


def _memmap_dir() -> str:
    global _MEMMAP_DIR
    if _MEMMAP_DIR is None:
        _MEMMAP_DIR = tempfile.mkdtemp(prefix="pynet-hypothesis-")
        atexit.register(shutil.rmtree, _MEMMAP_DIR, ignore_errors=True)
    return _MEMMAP_DIR


def relayout(array: np.ndarray, layout: str) -> Any:
    """The same values as ``array`` (a C-contiguous array) in another memory
    layout or container. Layouts that do not apply fall back to a plain copy."""
    shape = array.shape
    # np.array keeps 0-d shapes (np.ascontiguousarray would make them 1-D).
    if layout == "C":
        return np.array(array, order="C")
    if layout == "F":
        return np.array(array, order="F")
    if layout == "strided":
        if array.ndim == 0:
            return array.copy()
        big = np.zeros(tuple(2 * s + 1 for s in shape), dtype=array.dtype)
        index = tuple(slice(1, None, 2) for _ in shape)
        big[index] = array
        return big[index]
    if layout == "negative-strides":
        if array.ndim == 0:
            return array.copy()
        reverse = tuple(slice(None, None, -1) for _ in shape)
        return array[reverse].copy()[reverse]
    if layout == "transposed-view":
        return np.ascontiguousarray(array.transpose()).transpose()
    if layout == "read-only":
        copy = array.copy()
        copy.flags.writeable = False
        return copy
    if layout == "broadcast":
        # Zero strides: every row is the first row (so the values change;
        # ArrayArg reads the values from the result).
        if array.ndim == 0 or shape[0] == 0:
            return array.copy()
        return np.broadcast_to(array[:1], shape)
    if layout == "unaligned":
        if array.dtype.hasobject or array.dtype.itemsize < 2:
            return array.copy()
        buffer = bytearray(array.nbytes + 1)
        unaligned = np.ndarray(shape, dtype=array.dtype, buffer=buffer, offset=1)
        unaligned[...] = array
        return unaligned
    if layout == "memmap":
        if array.dtype.hasobject or array.size == 0 or array.ndim == 0:
            return array.copy()
        path = os.path.join(_memmap_dir(), f"a{next(_MEMMAP_COUNTER)}.dat")
        writer = np.memmap(path, dtype=array.dtype, mode="w+", shape=shape)
        writer[...] = array
        writer.flush()
        del writer
        return np.memmap(path, dtype=array.dtype, mode="r", shape=shape)
    if layout == "list":
        return array.tolist()
    raise AssertionError(layout)


class _Unset:
    pass


@dataclass(eq=False)
class ArrayArg:
    """A value passed where pynet expects an array of real numbers.

    ``array`` is what ``np.asarray`` makes of it (``None`` when NumPy cannot
    make an array of it, e.g. a ragged list); ``kind_ok`` says it is an array
    of real numbers (bool, integer or float dtype); ``canonical`` is then the
    same data as a C-contiguous float64 array.
    """

    value: Any
    label: str
    _array: Any = field(default=_Unset, repr=False)

    @property
    def array(self) -> Optional[np.ndarray]:
        if self._array is _Unset:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._array = np.asarray(self.value)
            except (ValueError, TypeError):
                self._array = None
        return self._array

    @property
    def kind_ok(self) -> bool:
        return self.array is not None and self.array.dtype.kind in "biuf"

    @property
    def wrong_kind(self) -> bool:
        """NumPy reads it as an array, but not of real numbers: TypeError."""
        return self.array is not None and not self.kind_ok

    @property
    def canonical(self) -> Optional[np.ndarray]:
        if not self.kind_ok:
            return None
        with np.errstate(all="ignore"):
            # np.array keeps a 0-d shape (np.ascontiguousarray would make it 1-D).
            return np.array(self.array, dtype=np.float64, order="C")

    @property
    def finite(self) -> bool:
        return self.kind_ok and bool(np.all(np.isfinite(self.canonical)))

    @property
    def shape(self) -> Optional[tuple[int, ...]]:
        return None if self.array is None else self.array.shape

    def is_real_array(self, ndim: Optional[int] = None, shape: Optional[tuple] = None) -> bool:
        """Valid data: real, finite, of the given ndim/shape."""
        if not self.finite:
            return False
        if ndim is not None and self.array.ndim != ndim:
            return False
        if shape is not None and self.array.shape != tuple(shape):
            return False
        return True

    def __repr__(self) -> str:
        text = np.array2string(self.array, threshold=30) if isinstance(self.array, np.ndarray) else repr(self.value)
        text = re.sub(r"\s+", " ", text)
        return f"ArrayArg({self.label}: {text[:400]})"


def _values_for(draw, dtype: np.dtype, shape: tuple[int, ...], values: str) -> np.ndarray:
    """A C-contiguous array of ``dtype`` and ``shape``."""
    floats = VALUE_STRATEGIES[values]
    if dtype.kind == "b":
        return draw(hnp.arrays(np.bool_, shape))
    if dtype.kind in "iu":
        native = dtype.newbyteorder("=")
        info = np.iinfo(native)
        ints = st.one_of(st.integers(-3, 3).filter(lambda i: info.min <= i <= info.max), st.integers(info.min, info.max))
        return draw(hnp.arrays(native, shape, elements=ints)).astype(dtype)
    base = draw(hnp.arrays(np.float64, shape, elements=floats))
    with np.errstate(all="ignore"):
        if dtype.kind == "f":
            return base.astype(dtype)
        if dtype.kind == "c":
            return (base + 1j * draw(hnp.arrays(np.float64, shape, elements=floats))).astype(dtype)
        if dtype.kind == "O":
            return base.astype(object)
        if dtype.kind in "US":
            return base.astype(dtype)
        if dtype.kind in "mM":
            return draw(hnp.arrays(np.int32, shape)).astype(dtype)
        if dtype.kind == "V":
            out = np.zeros(shape, dtype=dtype)
            out["a"] = base
            return out
    raise AssertionError(dtype)


def small_shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 5):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side)


@st.composite
def arrays_of(draw, shape, dtype=None, values: str = "any", layout=None) -> ArrayArg:
    """An array of ``shape`` (a tuple or a strategy), with a drawn real dtype
    (unless given) and layout. Real dtypes only: use ``array_args`` for
    everything a user might pass."""
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    dtype = np.dtype(dtype) if dtype is not None else draw(st.sampled_from(REAL_DTYPES))
    layout = layout or draw(st.sampled_from(LAYOUTS))
    base = np.asarray(_values_for(draw, dtype, tuple(shape), values))  # 0-d arrays, not NumPy scalars
    value = relayout(base, layout)
    return ArrayArg(value, f"{dtype} {tuple(shape)} {layout}")


SCALAR_CASES = [
    None,
    0,
    1,
    -1,
    2.5,
    math.nan,
    math.inf,
    True,
    np.float32(1.5),
    np.int16(3),
    np.bool_(True),
    1j,
    "1.0",
    "",
    b"\x00\x01",
    {},
    {"a": 1},
    set(),
    object(),
    Decimal("1.5"),
    Fraction(1, 3),
    2**70,
    range(3),
    (x for x in range(2)),
]


@st.composite
def odd_values(draw, values: str = "any") -> ArrayArg:
    """Scalars, None, strings, ragged / mixed / huge-integer lists."""
    case = draw(
        st.sampled_from(
            ["scalar", "float", "ragged", "mixed-list", "none-list", "str-list", "huge-int-list", "empty-list", "nested-empty"]
        )
    )
    if case == "scalar":
        value = draw(st.sampled_from(SCALAR_CASES))
        if hasattr(value, "__next__"):
            value = (x for x in range(2))  # generators are single-use
    elif case == "float":
        value = draw(VALUE_STRATEGIES[values])
    elif case == "ragged":
        value = [[1.0, 2.0, 3.0], [4.0, 5.0]]
    elif case == "mixed-list":
        value = [[1.0, "2", 3.0]]
    elif case == "none-list":
        value = [[1.0, None, 3.0]]
    elif case == "str-list":
        value = [["a", "b", "c"]]
    elif case == "huge-int-list":
        value = [[2**70, 1, 2]]
    elif case == "empty-list":
        value = []
    else:
        value = [[]]
    return ArrayArg(value, case)


def array_args(shapes, values: str = "any", real_only: bool = False):
    """Everything a user might pass for an array argument: mostly real arrays
    of the shapes given (a strategy), some of a wrong dtype, some odd values."""
    real = arrays_of(shapes, values=values)
    if real_only:
        return real
    return _array_args(shapes, values)


@st.composite
def _array_args(draw, shapes, values: str) -> ArrayArg:
    category = draw(st.integers(0, 9))
    if category <= 6:
        return draw(arrays_of(shapes, values=values))
    if category <= 8:
        return draw(arrays_of(shapes, dtype=draw(st.sampled_from(WRONG_DTYPES)), values=values))
    return draw(odd_values(values))


def matrix_shapes(columns: int, max_rows: int = 6):
    """Mostly (rows, columns) — 0 rows included — sometimes anything."""
    return st.one_of(
        st.tuples(st.integers(0, max_rows), st.just(columns)),
        st.tuples(st.integers(1, max_rows), st.just(columns)),
        st.tuples(st.integers(1, max_rows), st.just(columns)),
        small_shapes(),
    )


def vector_or_matrix_shapes(max_side: int = 5):
    return st.one_of(small_shapes(1, 2, max_side), small_shapes(1, 2, max_side), small_shapes(0, 3, max_side))


# ----------------------------------------------------------------------------
# Scalars a user might pass for a hyper-parameter
# ----------------------------------------------------------------------------

scalar_hyperparameters = st.one_of(
    st.integers(-5, 5),
    st.integers(),
    st.sampled_from([2**31, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**30, 10**400, -(2**63), -(2**63) - 1, -(10**400)]),
    any_floats,
    st.floats(0, 1),
    st.sampled_from([0.5, 0.9, 0.999, 1e-9, 1.0 - 1e-16, TINY]),
    st.sampled_from(
        [
            np.float16(0.5), np.float32(0.9), np.float64(0.1), np.longdouble("1e4000"), np.longdouble("0.5"),
            np.int8(-3), np.int64(7), np.uint8(255), np.uint64(2**64 - 1), np.bool_(True), np.float32(np.nan),
        ]
    ),
    st.sampled_from(
        [
            True, False, None, "0.1", "", b"1", 1j, 0.5 + 0j, [0.1], (0.1,), {"x": 1},
            np.array(0.1), np.array([0.1]), Decimal("0.1"), Fraction(1, 10), Fraction(10**400), Fraction(-1, 3),
        ]
    ),
)


def as_real(value: Any) -> tuple[str, Optional[float]]:
    """What the documented rules make of a hyper-parameter that must be a
    real number: ("kind", None) for a wrong kind of object (TypeError);
    ("range", None) for a real number no float can hold (ValueError);
    ("ok", x) otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return "kind", None
    try:
        number = float(value)
    except OverflowError:
        return "range", None
    if math.isinf(number) and not (isinstance(value, (float, np.floating)) and math.isinf(value)):
        # A finite real too large for a float (e.g. a long double): out of range.
        return "range", None
    return "ok", number


def as_integer(value: Any) -> tuple[str, Optional[int]]:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        return "kind", None
    return "ok", int(value)


# ----------------------------------------------------------------------------
# Checking outcomes
# ----------------------------------------------------------------------------


def names_argument(message: str, names: Sequence[str]) -> bool:
    """True when the message mentions one of ``names`` as a word."""
    return any(re.search(rf"(?<![\w']){re.escape(name)}(?![\w'])", message) for name in names)


def same_result(a: Any, b: Any) -> bool:
    """Bit-for-bit equality of two results (arrays, floats, nested tuples)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_result(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def all_finite(result: Any) -> bool:
    if isinstance(result, (list, tuple)):
        return all(all_finite(x) for x in result)
    if result is None:
        return True
    return bool(np.all(np.isfinite(np.asarray(result, dtype=np.float64))))


def call(function: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", result) or ("error", exception) for ValueError/TypeError.
    Any other exception (a Rust panic is a BaseException) propagates and
    fails the test."""
    try:
        return "ok", function()
    except (ValueError, TypeError) as error:
        return "error", error


@st.composite
def from_base(draw, base: np.ndarray, dtypes: Sequence[np.dtype] = REAL_DTYPES) -> ArrayArg:
    """``base`` (float64 values) cast to a drawn real dtype, in a drawn layout."""
    dtype = draw(st.sampled_from(list(dtypes)))
    layout = draw(st.sampled_from(LAYOUTS))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cast = np.asarray(base.astype(dtype))
    return ArrayArg(relayout(cast, layout), f"{dtype} {base.shape} {layout}")


def plain(array: Any) -> ArrayArg:
    """A valid C-contiguous float64 argument."""
    return ArrayArg(np.array(array, dtype=np.float64, order="C"), f"float64 {np.shape(array)} C")
