"""Strawberry's schema-extension runner, with each extension class's hooks looked up once.

For every operation Strawberry opens four context managers (operation, parsing, validation,
execution), and each asks every extension whether its class overrides that hook: an ``inspect``
check, and for a hook it has, ``contextlib.contextmanager`` wrapping a freshly bound method
(``functools.update_wrapper`` and all). With the schema's five extensions that is twenty lookups
and six wrappings per operation, about 30 % of the time Strawberry takes for ``{ __typename }``
(docs/benchmarks.md). What a hook is depends only on the extension's class, as Strawberry itself
looks it up on the class, so here it is worked out once per class and hook, and an operation only
binds it to its extension. Stream results (incremental delivery) keep Strawberry's own lookup.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from functools import cache, partial
from typing import Any, NamedTuple

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner


class _Hook(NamedTuple):
    """A hook of an extension class, as a context manager factory that takes the extension."""

    enter: Callable[[SchemaExtension], Any]
    is_async: bool


@cache
def _hook(extension_class: type[SchemaExtension], name: str) -> _Hook | None:
    """What ``ExtensionContextManagerBase.get_hook`` makes of ``extension_class``'s hook, unbound:
    ``None`` where the class does not override it."""
    function = getattr(extension_class, name)
    if function is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(function):
        return _Hook(contextlib.contextmanager(function), is_async=False)
    if inspect.isasyncgenfunction(function):
        return _Hook(contextlib.asynccontextmanager(function), is_async=True)
    if not callable(function):
        raise ValueError(f"Hook {name} on {extension_class} must be callable, not {function!r}")
    if inspect.iscoroutinefunction(function):

        @contextlib.asynccontextmanager
        async def awaited(extension: SchemaExtension) -> AsyncIterator[None]:
            await function(extension)
            yield

        return _Hook(awaited, is_async=True)

    @contextlib.contextmanager
    def called(extension: SchemaExtension) -> Iterator[None]:
        function(extension)
        yield

    return _Hook(called, is_async=False)


class _CachedLookup(ExtensionContextManagerBase):
    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        hook = _hook(type(extension), self.HOOK_NAME)
        if hook is None:
            return None
        return WrappedHook(extension, partial(hook.enter, extension), hook.is_async)


class _Operation(_CachedLookup, OperationContextManager):
    pass


class _Parsing(_CachedLookup, ParsingContextManager):
    pass


class _Validation(_CachedLookup, ValidationContextManager):
    pass


class _Executing(_CachedLookup, ExecutingContextManager):
    pass


class ExtensionsRunner(SchemaExtensionsRunner):
    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
