"""Static audit of the ``module_src`` text embedded in official network pickles.

The loader never executes that text. As defence in depth it still refuses a pickle whose
embedded source does something no network definition needs: imports outside the modules
NVIDIA's network files use, or calls that run code or touch files. The text is only parsed
with :mod:`ast`, which executes nothing.
"""

from __future__ import annotations

import ast

from gan_directions.errors import UnsafePickleError

ALLOWED_IMPORT_ROOTS = frozenset({"numpy", "torch", "scipy", "torch_utils", "dnnlib", "math"})
FORBIDDEN_CALLS = frozenset(
    {"exec", "eval", "compile", "open", "__import__", "breakpoint", "input", "system", "popen"}
)


def _called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def audit_module_source(source: str, class_name: str) -> None:
    """Raise :class:`UnsafePickleError` when ``source`` imports or calls something suspicious."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        raise UnsafePickleError(
            f"refused persistent object {class_name}: its embedded module source is not valid "
            "Python"
        ) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            roots = [(node.module or "").split(".")[0]] if node.level == 0 else []
        else:
            roots = []
        for root in roots:
            if root not in ALLOWED_IMPORT_ROOTS:
                raise UnsafePickleError(
                    f"refused persistent object {class_name}: its embedded module source "
                    f"imports {root!r}"
                )
        if isinstance(node, ast.Call) and _called_name(node) in FORBIDDEN_CALLS:
            raise UnsafePickleError(
                f"refused persistent object {class_name}: its embedded module source calls "
                f"{_called_name(node)}()"
            )
