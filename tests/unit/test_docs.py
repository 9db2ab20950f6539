"""The documentation site cannot drift from code that runs.

Every code sample in ``docs/`` either is taken from a file that a test runs (``literalinclude``
of an example DAG, of ``docs/examples/``, or of the package itself), or is run here:

- every ``literalinclude`` names an existing file of those, and its ``[START x]``/``[END x]``
  markers exist once each, in order, around some code; every marker of those files is shown;
- the Python blocks of each page run, in order, in one namespace, against a fresh simulator;
- each shell command is checked by what it is: ``make`` targets exist, ``pip install`` extras
  exist, ``AIRFLOW_CONN_*`` values make a working connection, ``AIRFLOW__*`` options exist,
  ``airflow ...`` and the simulator's command lines parse with their real parsers, and ``curl``
  calls to the simulator's control endpoints answer;
- JSON blocks parse, the simulator's usage lists exactly its options, and the messages the pages
  quote are the ones the code produces;
- ``docs/examples`` (a DAG and the tests a user would write for it) passes under pytest, with a
  real metadata database (marked integration).

``make docs`` builds the site itself (warnings are errors, every reference must resolve).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import httpx
import pytest

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from airflow_provider_apimart.testing import ApimartSimulator

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
BUILD = DOCS / "_build"
#: Files a literalinclude may show, because a test runs them: the example DAGs
#: (tests/integration/test_example_dags.py), docs/examples (test_docs_examples_pass, below), the
#: package itself and the tests.
RUN_BY_TESTS = ("example_dags", "docs/examples", "airflow_provider_apimart", "tests")
#: Files whose markers must each be shown somewhere in the docs.
MARKED_FILES = sorted([*(ROOT / "example_dags").glob("*.py"), *EXAMPLES.rglob("*.py")])
MARKER = re.compile(r"#\s*\[(START|END) ([\w.-]+)\]")


@dataclass
class Block:
    """A fenced block of a page: ```` ```info ```` followed by its body."""

    page: Path
    line: int
    info: str
    body: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    @property
    def argument(self) -> str:
        parts = self.info.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def doc_pages(suffix: str) -> list[Path]:
    return sorted(path for path in DOCS.rglob(f"*{suffix}") if BUILD not in path.parents)


def fenced_blocks(page: Path) -> list[Block]:
    """Every fenced block of a MyST page, including blocks nested in directive fences."""
    blocks: list[Block] = []

    def scan(lines: list[str], first_line: int) -> None:
        index = 0
        while index < len(lines):
            opening = re.match(r"^(\s*)(`{3,}|~{3,}|:{3,})(.*)$", lines[index])
            if not opening:
                index += 1
                continue
            indent, fence, info = opening.groups()
            end = index + 1
            while end < len(lines) and lines[end].strip() != fence:
                end += 1
            body = [line.removeprefix(indent) for line in lines[index + 1 : end]]
            block = Block(page, first_line + index, info.strip(), "\n".join(body) + "\n")
            if block.kind.startswith("{"):
                while body and re.match(r"^:[\w-]+:", body[0]):
                    name, _, value = body.pop(0)[1:].partition(":")
                    block.options[name] = value.strip()
                block.body = "\n".join(body) + "\n"
                scan(body, first_line + index + 1 + len(block.options))
            blocks.append(block)
            index = end + 1

    scan(page.read_text().splitlines(), 1)
    return blocks


def rst_includes(page: Path) -> list[Block]:
    """``.. literalinclude::`` directives of a reStructuredText page (the API reference)."""
    blocks: list[Block] = []
    lines = page.read_text().splitlines()
    for index, line in enumerate(lines):
        directive = re.match(r"^\s*\.\. literalinclude::\s*(\S+)", line)
        if directive:
            block = Block(page, index + 1, "{literalinclude} " + directive.group(1), "")
            for option in lines[index + 1 :]:
                found = re.match(r"^\s+:([\w-]+):\s*(.*)$", option)
                if not found:
                    break
                block.options[found.group(1)] = found.group(2).strip()
            blocks.append(block)
    return blocks


MD_PAGES = doc_pages(".md")
BLOCKS = [block for page in MD_PAGES for block in fenced_blocks(page)]
INCLUDES = [block for block in BLOCKS if block.kind == "{literalinclude}"] + [
    block for page in doc_pages(".rst") for block in rst_includes(page)
]
PYTHON_PAGES = sorted({block.page for block in BLOCKS if block.kind in {"python", "py"}})
SHELL_BLOCKS = [block for block in BLOCKS if block.kind in {"bash", "sh", "shell", "console"}]
JSON_BLOCKS = [block for block in BLOCKS if block.kind == "json"]


def included_file(block: Block) -> Path:
    target = block.argument
    return (DOCS / target.lstrip("/")) if target.startswith("/") else (block.page.parent / target).resolve()


def test_the_docs_have_samples_of_every_kind() -> None:
    assert len(MD_PAGES) >= 20
    assert INCLUDES
    assert PYTHON_PAGES
    assert SHELL_BLOCKS


# ---------------------------------------------------------------------------- literalinclude


@pytest.mark.parametrize("block", INCLUDES, ids=str)
def test_every_literalinclude_shows_code_that_a_test_runs(block: Block) -> None:
    path = included_file(block)
    assert path.is_file(), f"{block}: {block.argument} does not exist"
    relative = path.relative_to(ROOT).as_posix()
    assert relative.startswith(RUN_BY_TESTS), f"{block}: {relative} is not run by any test"
    text = path.read_text()
    start, end = 0, len(text)
    for option in ("start-after", "start-at"):
        if option in block.options:
            needle = block.options[option]
            assert needle, f"{block}: empty :{option}:"
            if needle.startswith("[START"):
                assert text.count(needle) == 1, f"{block}: {needle} must occur once in {relative}"
            assert needle in text, f"{block}: {needle!r} is not in {relative}"
            found = text.index(needle)
            start = found + len(needle) if option == "start-after" else found
    for option in ("end-before", "end-at"):
        if option in block.options:
            needle = block.options[option]
            if needle.startswith("[END"):
                assert text.count(needle) == 1, f"{block}: {needle} must occur once in {relative}"
            assert needle in text[start:], f"{block}: {needle!r} does not follow the start in {relative}"
            found = text.index(needle, start)
            end = found if option == "end-before" else found + len(needle)
    shown = text[start:end]
    assert re.search(r"\w", MARKER.sub("", shown)), f"{block}: the included region of {relative} is empty"


@pytest.mark.parametrize("path", MARKED_FILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_marker_opens_and_closes_and_is_shown_in_the_docs(path: Path) -> None:
    markers = MARKER.findall(path.read_text())
    starts = [name for kind, name in markers if kind == "START"]
    ends = [name for kind, name in markers if kind == "END"]
    assert sorted(starts) == sorted(ends), f"{path.name}: unbalanced markers"
    assert len(set(starts)) == len(starts), f"{path.name}: a marker is used twice"
    shown = {block.options.get("start-after") for block in INCLUDES if included_file(block) == path}
    assert {f"[START {name}]" for name in starts} <= shown, f"{path.name}: markers no page shows"


# ---------------------------------------------------------------------------- Python blocks


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda page: page.relative_to(DOCS).as_posix())
def test_the_python_blocks_of_each_page_run(
    page: Path, apimart_simulator: ApimartSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In order, in one namespace (a later block may use an earlier one's imports), with
    ``apimart_default`` pointing at a fresh simulator and the environment restored afterwards."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    with mock.patch.dict(os.environ):
        for block in BLOCKS:
            if block.page == page and block.kind in {"python", "py"}:
                code = compile(block.body, str(block), "exec")
                exec(code, namespace)  # noqa: S102 - our own documentation


# ---------------------------------------------------------------------------- shell commands


def shell_commands(block: Block) -> list[list[str]]:
    """Each command of a shell block as its words; comments and prompts left out, a pipe kept."""
    joined = re.sub(r"\\\n", " ", block.body)
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line.removeprefix("$ "), comments=True)
        if words:
            commands.append(words)
    return commands


@functools.cache
def airflow_cli() -> argparse.ArgumentParser:
    from airflow.cli.cli_parser import get_parser

    return get_parser()


@functools.cache
def makefile_targets() -> frozenset[str]:
    return frozenset(re.findall(r"^([A-Za-z][\w.-]*):", (ROOT / "Makefile").read_text(), re.M))


def read_by_the_project(variable: str) -> bool:
    """An environment variable that the project's own code or Makefile reads."""
    sources = [*(ROOT / "scripts").glob("*.py"), *(ROOT / "example_dags").glob("*.py"), ROOT / "Makefile"]
    return any(variable in path.read_text() for path in sources)


def check_make(words: list[str], simulator: ApimartSimulator) -> None:
    missing = set(words[1:]) - makefile_targets()
    assert not missing, f"no such Makefile target: {sorted(missing)}"


def check_pip(words: list[str], simulator: ApimartSimulator) -> None:
    assert words[1] == "install", words
    from airflow_provider_apimart import __version__

    extras = set(metadata.metadata("airflow-provider-apimart").get_all("Provides-Extra") or [])
    # Not on the package index yet: a checkout, or the wheel `make dist` builds of this version.
    installable = {".", f"dist/airflow_provider_apimart-{__version__}-py3-none-any.whl"}
    for spec in (word for word in words[2:] if not word.startswith("-")):
        name, _, wanted = spec.partition("[")
        assert name in installable, f"the docs install this package from a checkout or its wheel: {spec}"
        missing = set(wanted.rstrip("]").split(",")) - extras - {""}
        assert not missing, f"no such extra: {sorted(missing)}"


def check_export(words: list[str], simulator: ApimartSimulator) -> None:
    from airflow_provider_apimart.get_provider_info import get_provider_info
    from airflow_provider_apimart.hooks.apimart import ApimartHook
    from airflow_provider_apimart.version_compat import conf

    for assignment in words[1:]:
        name, _, value = assignment.partition("=")
        if name.startswith("AIRFLOW_CONN_"):
            fields = json.loads(value)
            assert fields["conn_type"] == "apimart", fields
            with mock.patch.dict(os.environ, {name: value}):
                settings = ApimartHook(name.removeprefix("AIRFLOW_CONN_").lower()).get_settings()
            assert settings.api_key == fields["password"]
        elif name.startswith("AIRFLOW__"):
            section, _, option = name.removeprefix("AIRFLOW__").lower().partition("__")
            ours = get_provider_info()["config"].get(section, {}).get("options", {})
            assert option in ours or conf.get_default_value(section, option) is not None, name
        else:
            assert read_by_the_project(name), f"{name} is read nowhere in the project"


def check_airflow(words: list[str], simulator: ApimartSimulator) -> None:
    try:
        airflow_cli().parse_args(words[1:])
    except SystemExit as error:
        pytest.fail(f"`{shlex.join(words)}` does not parse with Airflow's CLI (exit {error.code})")


def check_python(words: list[str], simulator: ApimartSimulator) -> None:
    from airflow_provider_apimart.testing.__main__ import parse_args

    assert words[1:3] == ["-m", "airflow_provider_apimart.testing"], words
    try:
        parse_args(words[3:])
    except SystemExit as error:
        pytest.fail(f"`{shlex.join(words)}` does not parse with the simulator's CLI (exit {error.code})")


def check_curl(words: list[str], simulator: ApimartSimulator) -> None:
    """A call to the simulator on its documented port, made on a running simulator instead."""
    pipe = words.index("|") if "|" in words else len(words)
    arguments, after = words[1:pipe], words[pipe + 1 :]
    method, data, url = "GET", None, ""
    index = 0
    while index < len(arguments):
        word = arguments[index]
        if word in {"-X", "--request"}:
            method, index = arguments[index + 1], index + 2
        elif word in {"-d", "--data"}:
            method = "POST" if method == "GET" else method
            data, index = arguments[index + 1], index + 2
        elif word.startswith("-"):
            assert word in {"-s", "--silent", "-S"}, f"no check for curl {word}"
            index += 1
        else:
            url, index = word, index + 1
    path = re.sub(r"^(https?://)?(localhost|127\.0\.0\.1):\d+", "", url)
    assert path.startswith("/_simulator/"), f"the docs curl only the simulator's control endpoints: {url}"
    answer = httpx.request(method, simulator.base_url + path, content=data, timeout=10)
    assert answer.status_code == 200, answer.text
    if after:
        assert after[0] == "jq", after
        for key in after[1].strip(".").split("."):
            assert key in answer.json(), f"{url} answers no {key!r}"


SHELL_CHECKS: dict[str, Callable[[list[str], ApimartSimulator], None]] = {
    "make": check_make,
    "pip": check_pip,
    "export": check_export,
    "airflow": check_airflow,
    "python": check_python,
    "curl": check_curl,
}


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=str)
def test_every_shell_command_is_one_that_works(block: Block, apimart_simulator: ApimartSimulator) -> None:
    for words in shell_commands(block):
        check = SHELL_CHECKS.get(words[0])
        assert check is not None, f"{block}: no check for `{shlex.join(words)}`; add one to SHELL_CHECKS"
        check(words, apimart_simulator)


@pytest.mark.parametrize("block", JSON_BLOCKS, ids=str)
def test_every_json_block_parses(block: Block) -> None:
    json.loads(block.body)


# ---------------------------------------------------------------------------- quoted output


def text_block(page: str, prefix: str) -> str:
    """The ```text block of a page that starts with ``prefix``, its lines joined by spaces."""
    for block in BLOCKS:
        if block.page == DOCS / page and block.kind == "text" and block.body.startswith(prefix):
            return " ".join(block.body.split())
    raise AssertionError(f"docs/{page} has no text block starting with {prefix!r}")


def test_the_simulator_usage_lists_exactly_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    from airflow_provider_apimart.testing.__main__ import parse_args

    usage = text_block("simulator.md", "python -m airflow_provider_apimart.testing")
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    options = set(re.findall(r"--[a-z][a-z-]*", capsys.readouterr().out)) - {"--help"}
    assert set(re.findall(r"--[a-z][a-z-]*", usage)) == options


def test_the_quoted_kling_error_is_the_one_raised() -> None:
    from airflow_provider_apimart.exceptions import ApimartValidationError
    from airflow_provider_apimart.models import build_request

    quoted = text_block("howto/kling-v2-6.md", "Invalid kling-v2-6 request")
    with pytest.raises(ApimartValidationError) as raised:
        build_request(
            {
                "model": "kling-v2-6",
                "prompt": "City timelapse from day to night",
                "image_urls": ["https://example.com/day.jpg", "https://example.com/night.jpg"],
            }
        )
    assert " ".join(str(raised.value).split()) == quoted


def test_the_quoted_schema_refusal_is_the_one_raised(apimart_simulator: ApimartSimulator) -> None:
    from airflow_provider_apimart.exceptions import ApimartValidationError
    from airflow_provider_apimart.operators.video import ApimartVideoGenerationOperator
    from tests.unit.operators.fakes import make_context

    quoted = text_block("models.md", "Task 'kling_v3_clip': invalid kling-v3 request")
    operator = ApimartVideoGenerationOperator(
        task_id="kling_v3_clip", model="kling-v3", body={"prompt": "A lighthouse", "duration": 20}
    )
    with pytest.raises(ApimartValidationError) as raised:
        operator.execute(make_context())
    assert str(raised.value) == quoted
    assert apimart_simulator.state.requests_to("POST", "/v1/videos/generations") == []


def test_the_quoted_balance_refusal_is_the_one_raised(apimart_simulator: ApimartSimulator) -> None:
    from airflow_provider_apimart.exceptions import ApimartInsufficientBalanceError
    from airflow_provider_apimart.hooks.apimart import ApimartHook
    from airflow_provider_apimart.operators.balance import check_balance

    quoted = text_block("balance.md", "Task 'clip': the APIMart balance is")
    apimart_simulator.state.set_balance(0.8)
    with ApimartHook() as hook, pytest.raises(ApimartInsufficientBalanceError) as raised:
        check_balance(hook, 2.5, task_id="clip", log=mock.Mock())
    assert str(raised.value) == quoted


def test_the_quoted_api_error_is_how_an_api_error_reads() -> None:
    from airflow_provider_apimart.exceptions import ApimartBadRequestError

    quoted = text_block("errors.md", "APIMart answered HTTP 400")
    error = ApimartBadRequestError(
        quoted.partition(": ")[2],
        http_status=400,
        error_type="invalid_duration",
        method="POST",
        path="/v1/videos/generations",
    )
    assert str(error) == quoted


def test_the_quoted_progress_line_is_the_one_logged() -> None:
    from airflow_provider_apimart.models import TaskStatus
    from airflow_provider_apimart.waiting.poller import describe_progress

    quoted = text_block("waiting.md", "APIMart task ")
    status = TaskStatus(
        id="task_01J9HA7JPQ9A0Z6JZ3V8M9W6PZ", status="processing", progress=40, estimated_time=300
    )
    assert describe_progress(status) == quoted


def test_the_quoted_image_refusal_is_the_one_raised(tmp_path: Path) -> None:
    from airflow_provider_apimart.exceptions import ApimartValidationError
    from airflow_provider_apimart.inputs import check_images, find_stored_images

    quoted = text_block("outputs.md", "image_urls[0]:")
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(30 * 1024 * 1024))
    body = {"model": "wan2.7", "prompt": "A lighthouse at dusk", "image_urls": [str(big)]}
    with pytest.raises(ApimartValidationError) as raised:
        check_images(find_stored_images(body), "wan2.7")
    (problem,) = raised.value.problems
    assert f"{problem[0]}: {problem[1]}".replace(str(big), "/data/in/big.png") == quoted


# ---------------------------------------------------------------------------- docs/examples


@pytest.fixture
def examples_env(tmp_path: Path) -> dict[str, str]:
    """A fresh Airflow home with a migrated metadata DB, as a DAG repository's CI would have."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "PYTEST_"))
    }
    env.update({"AIRFLOW_HOME": str(tmp_path / "airflow-home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run(  # noqa: S603 - our own venv's airflow, fixed arguments
        [str(airflow), "db", "migrate"], check=True, capture_output=True, env=env, timeout=300
    )
    return env


@pytest.mark.integration
def test_docs_examples_pass(examples_env: dict[str, str]) -> None:
    """The conftest, DAGs and tests that the testing page shows pass, as a user would run them."""
    result = subprocess.run(  # noqa: S603 - our own venv's pytest, fixed arguments
        [sys.executable, "-m", "pytest", str(EXAMPLES), "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        env=examples_env,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout[-2000:]
