"""What pynet's own components share: the engine object behind them, a
Keras-style config, and pickling through that config."""

from __future__ import annotations

from typing import Any


class BuiltinComponent:
    """Mixin of the components the engine implements natively."""

    _core: Any

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this component."""
        return {}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.get_config()))

    def __repr__(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def builtin_name(component: Any) -> str:
    """The name of the pynet class a component is (or derives from): what
    the engine knows it by, even for a user's subclass."""
    for cls in type(component).__mro__:
        if cls.__module__.startswith("pynet.") and not cls.__name__.startswith("_"):
            return cls.__name__
    return type(component).__name__


def _rebuild(cls: type, config: dict[str, Any]) -> Any:
    return cls(**config)


def is_builtin(component: Any) -> bool:
    """True for pynet's own classes; a user's subclass (even of a built-in)
    runs its own Python methods."""
    return isinstance(component, BuiltinComponent) and type(component).__module__.startswith("pynet.")


def engine_component(component: Any) -> Any:
    """What the engine is handed: the native object of a built-in, or the
    user's object itself, which the engine calls back once per batch."""
    return component._core if is_builtin(component) else component
