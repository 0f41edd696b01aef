"""The routing core compiled with mypyc (``scripts/compile-core``), or not.

The compiled modules sit next to their sources and Python imports them in their place, so a
source edited (or checked out) after the build would silently not run. Importing the package
refuses that instead: a compiled module older than its source is an ImportError that says
what to run.
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader
from importlib.util import find_spec
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def is_compiled(name: str) -> bool:
    """Whether the module ``name`` (its package imported) is loaded from a compiled extension
    rather than its source; for a module not imported yet, whether it would be (known without
    importing it and what it imports)."""
    spec = find_spec(name)  # (an imported module's own spec)
    return spec is not None and isinstance(spec.loader, ExtensionFileLoader)


def libpython_linkage(maps: Path = Path("/proc/self/maps")) -> str:
    """How this interpreter holds libpython: ``shared`` (a separate library: every C-API call of
    the compiled core goes through the PLT; pyenv's build here, also without PGO and LTO),
    ``static`` (linked into the executable: Debian's and Ubuntu's, built with PGO and LTO) or
    ``unknown`` (no ``maps``, not Linux). Only the linkage is read, not how it was optimized.
    The compiled core spends much of its time in CPython's own C: a planning day cost 15 %
    fewer instructions on Debian's build than on pyenv's."""
    if not maps.exists():
        return "unknown"
    return "shared" if "libpython" in maps.read_text() else "static"


def stale_modules(package: Path = PACKAGE) -> list[tuple[Path, Path]]:
    """(compiled module, its source) for every compiled module older than its source, in the
    package and its subpackages."""
    stale: list[tuple[Path, Path]] = []
    extensions = {s.rpartition(".")[2] for s in EXTENSION_SUFFIXES}  # "so" ("pyd" on Windows)
    for built in sorted(f for ext in extensions for f in package.rglob(f"*.{ext}")):
        suffix = next((s for s in EXTENSION_SUFFIXES if built.name.endswith(s)), None)
        if suffix is None:
            continue
        source = built.with_name(built.name[: -len(suffix)] + ".py")
        if source.exists() and source.stat().st_mtime > built.stat().st_mtime:
            stale.append((built, source))
    return stale


def refuse_stale(package: Path = PACKAGE) -> None:
    """Raise ImportError naming the first compiled module older than its source."""
    stale = stale_modules(package)
    if stale:
        built, source = stale[0]
        raise ImportError(
            f"{built} is older than {source.name} (and {len(stale) - 1} more): run "
            "scripts/compile-core to compile the core again, or scripts/compile-core --clean "
            "to run it as Python"
        )
