"""Sphinx configuration of the airflow-provider-apimart documentation (``make docs``).

The build runs with ``-W --keep-going -n``: every warning fails it and every cross-reference must
resolve. References into other projects (Airflow, httpx, pydantic, the standard library) cannot
resolve offline, since no intersphinx inventory can be fetched; ``nitpick_ignore_regex`` below
names exactly those projects, so a broken reference to this provider's own code still fails.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# autodoc imports the provider, which imports Airflow: keep Airflow's home (airflow.cfg, logs)
# inside the build folder instead of ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", str(DOCS / "_build" / "airflow-home"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
sys.path.insert(0, str(ROOT))

from airflow_provider_apimart import __version__  # noqa: E402

project = "airflow-provider-apimart"
author = "airflow-provider-apimart maintainers"
copyright = "airflow-provider-apimart maintainers, Apache License 2.0"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
nitpicky = True

# MyST: ```{directive} fences (and ::: fences), and anchors for #, ## and ### headings, so pages
# link to each other's sections as page.md#section (a missing anchor is a warning, so an error).
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"airflow-provider-apimart {release}"
html_theme_options = {"navigation_with_keys": True}
html_static_path: list[str] = []
pygments_style = "sphinx"
pygments_dark_style = "monokai"

# The docstrings use reST field lists (:param x:), which autodoc reads as they are. (napoleon is
# left out on purpose: it would read a ``#:`` comment such as "Named in error messages: ..." as
# "type: description".)
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "member-order": "bysource",
}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_class_signature = "mixed"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = False
add_module_names = False

# Other projects' names that appear in signatures, bases and docstrings. Without their inventories
# (no network) they cannot resolve; they are ignored by project, never this provider's own names.
_EXTERNAL = [
    r"airflow(\..+)?",
    r"httpx(\..+)?",
    r"pydantic(_core)?(\..+)?",
    r"starlette(\..+)?",
    r"uvicorn(\..+)?",
    r"tenacity(\..+)?",
    r"pytest(\..+)?",
    r"_pytest(\..+)?",
    r"logging\..+",
    r"asyncio\..+",
    r"collections\.abc\..+",
    r"typing\..+",
    r"typing_extensions\..+",
    r"datetime\..+",
    r"enum\..+",
    r"pathlib\..+",
    r"threading\..+",
    r"concurrent\.futures\..+",
    r"re\.Pattern",
    r"types\..+",
    r"dataclasses\..+",
    r"(builtins\.)?(str|int|float|bool|bytes|bytearray|dict|list|tuple|set|frozenset|object|type"
    r"|None|NoneType|Exception|BaseException|UserWarning|Warning|ValueError|KeyError|TypeError"
    r"|RuntimeError|OSError|ImportError|memoryview|callable|range|slice)",
    # Airflow's names as string annotations give them (imported only under TYPE_CHECKING).
    r"(ObjectStoragePath|PokeReturnValue|Context|BaseOperator|TaskDecorator|BaseTrigger)",
    r"(Any|Callable|ClassVar|Literal|Self|TypeVar|Iterator|AsyncIterator|Iterable|Mapping"
    r"|MutableMapping|Sequence|Awaitable|Coroutine|Generator|AsyncGenerator|NamedTuple|Enum|StrEnum"
    r"|IntEnum|Path|datetime|timedelta|date)",
]
nitpick_ignore_regex = [(r"py:.*", pattern) for pattern in _EXTERNAL]


def _tree_as_literal_block(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Show indented text art in module docstrings (the exception tree) as a literal block.

    The docstrings are written for ``help()``: an indented block after a paragraph is a picture,
    which reST would otherwise read as a quotation or a definition list.
    """
    if what != "module":
        return
    for index, line in enumerate(lines):
        paragraph = lines[index - 2] if index >= 2 else ""
        opens_picture = line.startswith("    ") and not lines[index - 1].strip() and paragraph.strip()
        is_tree = re.search(r"[├└│]", "\n".join(lines[index : index + 3]))
        if opens_picture and is_tree and not paragraph.endswith("::"):
            lines[index - 2] = paragraph + ("::" if paragraph.endswith(":") else " ::")


def _public_bases(app: Any, name: str, obj: Any, options: Any, bases: list[type]) -> None:
    """Show a class's public ancestors instead of a private base (``_ModelVideoOperator``)."""
    public: list[type] = []
    pending = list(bases)
    while pending:
        base = pending.pop(0)
        if base.__name__.startswith("_"):
            pending[:0] = [grand for grand in base.__bases__ if grand is not object]
        elif base not in public:
            public.append(base)
    bases[:] = public or [object]


def _resolve_short_name(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """A bare ``:class:`WaitEvent``` in a docstring of ours: link it when exactly one object of
    this provider has that name (Sphinx's own ``.WaitEvent`` search); two would still warn."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or node.hasattr("refspecific") or "." in target or not target:
        return None
    module = node.get("py:module") or ""
    if not module.startswith("airflow_provider_apimart"):
        return None
    domain = env.get_domain("py")
    matches = domain.find_obj(env, "", "", target, node.get("reftype"), 1)
    ours = [match for match in matches if match[0].startswith("airflow_provider_apimart.")]
    if len(ours) != 1:
        return None
    node["refspecific"] = True
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], target, node, contnode)


def setup(app: Any) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", _tree_as_literal_block)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("missing-reference", _resolve_short_name)
    return {"parallel_read_safe": True}
