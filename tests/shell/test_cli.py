"""The ``idleshare`` command: subcommands present, keys created usable, bad input refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shell.cli import main
from shell.commands import app
from storage.catalog import Catalog

runner = CliRunner()


def test_every_component_has_a_subcommand() -> None:
    out = runner.invoke(app, ["--help"]).output
    for command in ("demo", "agent", "ingest", "analytics", "api", "keys", "import-influx"):
        assert command in out


def _command_paths() -> list[list[str]]:
    """Every command and subcommand registered on the app, as the words that call it."""
    import typer.main

    paths: list[list[str]] = []

    def walk(group: object, prefix: list[str]) -> None:
        for name, cmd in getattr(group, "commands", {}).items():
            paths.append([*prefix, name])
            walk(cmd, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("words", _command_paths(), ids=" ".join)
def test_every_commands_help_renders(words: list[str]) -> None:
    # Help text is rich markup: a stray [bracket] in an option's help is a traceback here.
    result = runner.invoke(app, [*words, "--help"])
    assert result.exit_code == 0, result.output
    assert "usage:" in result.output.lower()


def test_a_created_key_authenticates_as_its_tenant_and_role(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "create", "--tenant", "acme", "--role", "platform",
                                 "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    key = result.output.split("API key: ")[1].strip()
    owner = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}").key_owner(key)
    assert owner is not None and (owner.tenant_id, owner.role) == ("acme", "platform")


@pytest.mark.parametrize("args", [["--tenant", "a b"], ["--tenant", "acme", "--role", "root"]])
def test_keys_create_refuses_bad_input_with_exit_code_2(tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["keys", "create", *args, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "error:" in result.output


def test_agent_subcommand_runs_without_the_server_side(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    sample = Path(__file__).parents[2] / "edge_agent" / "samples" / "simulator.toml"
    assert main(["agent", "check", "--config", str(sample)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[agent]\nid = "gw"\ntenant = "t"\n[mqtt]\nqos = 3\n')
    assert main(["agent", "check", "--config", str(bad)]) != 0
    captured = capsys.readouterr()
    assert "mqtt.qos" in captured.err + captured.out


@pytest.mark.parametrize("words", [["api"], ["analytics", "--once"],
                                   ["ingest", "--mqtt-url", "mqtt://127.0.0.1:1"]])
def test_a_data_dir_that_cannot_be_made_is_one_clear_line(
    tmp_path: Path, words: list[str]
) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    result = runner.invoke(app, [*words, "--data-dir", str(in_the_way / "data")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: data_dir cannot be created: [Errno 20] Not a directory: '{in_the_way / 'data'}'"]
