"""``idleshare agent run|check --config FILE`` (argparse: typer is not on the Pi)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from edge_agent import config as config_mod
from edge_agent.agent import Agent, make_sources
from edge_agent.clock import make_clock
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
    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = config_mod.load(args.config)
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
    signal.signal(signal.SIGTERM, _interrupt)  # systemd stops with SIGTERM: shut down cleanly
    agent.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
