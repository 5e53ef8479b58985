"""The README's Python example runs as written and does what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


@pytest.mark.slow
def test_the_readme_example_runs_as_written(tmp_path, monkeypatch, capsys):
    blocks = python_blocks((REPOSITORY / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 1, "the README shows one example"
    # Run where the example's relative paths resolve, without writing into the clone.
    (tmp_path / "examples").symlink_to(REPOSITORY / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    accuracy = float(capsys.readouterr().out.strip().splitlines()[-1])
    assert accuracy > 0.97
    assert (tmp_path / "mnist.npz").is_file()


def test_the_readme_commands_are_the_ones_ci_runs():
    """CI must run the README's two set-up commands verbatim."""
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    ci = (REPOSITORY / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.findall(r"^(pip install .*)$", readme, flags=re.MULTILINE)
    assert len(commands) == 2, commands
    for command in commands:
        assert re.search(rf"^{re.escape(command)}$", ci, flags=re.MULTILINE), f"CI does not run: {command}"
