"""The ``idleshare`` command.

``idleshare agent ...`` is dispatched before typer is imported, so the edge agent runs on a
gateway that installed only the ``edge`` extra (paho-mqtt and the standard library).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["agent"]:
        from edge_agent.cli import main as agent_main

        return agent_main(args[1:])
    from shell.commands import app

    app(args, prog_name="idleshare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
