"""``idleshare agent run|check|status --config FILE``.

argparse, not typer: the agent's Pi installs only the ``edge`` extra.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from edge_agent import config as config_mod
from edge_agent.agent import Agent, make_sources
from edge_agent.clock import make_clock
from edge_agent.status import format_status, read_status, status_json
from idleshare.errors import ConfigError, IdleshareError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idleshare agent", description="Edge agent: sample assets and publish over MQTT.")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the agent until interrupted")
    run.add_argument("--config", required=True, help="agent TOML file")
    check = commands.add_parser("check", help="validate a config (and its sources) and exit")
    check.add_argument("--config", required=True, help="agent TOML file")
    status = commands.add_parser(
        "status", help="queue depth, oldest queued reading, last publish, connection, dropped")
    status.add_argument("--config", required=True, help="agent TOML file")
    status.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Installed first, so a stop during start-up still ends in a clean shutdown (and the
    # retained "offline"); systemd stops with SIGTERM.
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        cfg = config_mod.load(args.config)
        if args.command == "status":
            status = read_status(cfg.buffer.path)
            print(status_json(status) if args.json else format_status(status))
            return 0
        if args.command == "check":
            sources = make_sources(cfg, make_clock(cfg.clock.start, cfg.clock.speed).start)
            print(f"{args.config}: ok, agent {cfg.agent.id!r} of tenant {cfg.agent.tenant!r}, "
                  f"{len(sources)} assets")
            return 0
        agent = Agent(cfg)
    except ConfigError as err:
        print(f"{args.config}: {err}", file=sys.stderr)
        return 1
    except IdleshareError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    agent.run_forever(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
