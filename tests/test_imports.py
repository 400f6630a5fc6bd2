"""The package structure: no import cycle between healthmon's packages and top-level modules, and Streamlit
only under healthmon/ui. Read from the source with ast, type-only imports (`if TYPE_CHECKING:`) included:
they are dependencies of the design even where Python never executes them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "healthmon"


def unit_of(module: str) -> str:
    """`healthmon.remote.client` → `healthmon.remote`; `healthmon.records` stays itself."""
    return ".".join(module.split(".")[:2])


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[str]:
    """Every absolute or relative module name the file imports, anywhere in it."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def unit_graph() -> dict[str, set[str]]:
    units = {unit_of(module_name(p)) for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {unit: set() for unit in units}
    for path in PACKAGE.rglob("*.py"):
        source = unit_of(module_name(path))
        for name in imported(path):
            target = unit_of(name)
            if name.startswith("healthmon.") and target in units and target != source:
                graph[source].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_packages_and_top_level_modules() -> None:
    graph = unit_graph()
    assert {"healthmon.monitor", "healthmon.export", "healthmon.records", "healthmon.quality"} <= set(graph)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_only_the_entry_points_and_the_views_of_the_monitor_import_it() -> None:
    """The composition root sits above what it builds: the entry points (registry, agent, CLI) and the views that
    are handed a whole Monitor (the REST API, its payloads, the UI) import it; no part it builds does."""
    importers = {source for source, targets in unit_graph().items() if "healthmon.monitor" in targets}
    assert importers <= {"healthmon.registry", "healthmon.agent", "healthmon.__main__", "healthmon.api",
                         "healthmon.payloads", "healthmon.ui"}, importers


def test_streamlit_is_imported_only_under_ui() -> None:
    outside = [str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")
               if "ui" not in path.relative_to(PACKAGE).parts[:1]
               and any(name == "streamlit" or name.startswith("streamlit.") for name in imported(path))]
    assert outside == []
    shaping = [str(path.relative_to(ROOT)) for path in (PACKAGE / "ui" / "shaping").glob("*.py")
               if any(name.startswith("streamlit") for name in imported(path))]
    assert shaping == []


def test_a_monitor_of_a_remote_server_never_imports_torch(tmp_path) -> None:
    """torch and transformers cost ~5 s of imports: only a model loaded in-process needs them."""
    import subprocess
    import sys

    script = (
        "import sys\nfrom pathlib import Path\n"
        "from healthmon.config import load_settings\n"
        "from healthmon.monitor import Monitor\n"
        f"settings = load_settings(env={{}}, model='openai:http://127.0.0.1:9/v1', data_dir=Path({str(tmp_path)!r}),\n"
        "                         probe_interval=0.0)\n"
        "monitor = Monitor(settings, collectors=[])\n"
        "monitor.loop.collect_once()\n"
        "monitor.close()\n"
        "print(sorted(name for name in ('torch', 'transformers') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
