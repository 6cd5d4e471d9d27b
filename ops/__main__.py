"""`python -m ops <command>`: replay and inspection tools, on the local stack (default) or on AWS.

  python -m ops redrive-deliveries [--webhook wh_...] [--dry-run]   DeliveryDLQ → new runs, fresh attempts
  python -m ops redrive-fanout [--dry-run]                          FanoutDLQ → the bus
  python -m ops pending --company C --webhook wh_...                 retries waiting, and the webhook's health
  python -m ops tail --company C [--webhook wh_...] [--for SECONDS]  deliveries as they happen

Each takes the target after it: nothing (the local stack at 127.0.0.1:$AWS_PORT), --endpoint-url,
or --stack NAME [--profile P] [--region R] for a stack deployed on AWS.
"""

import argparse
import sys

from botocore.exceptions import BotoCoreError, ClientError

from ops import delivery_dlq, fanout_dlq, pending, tail, target

COMMANDS = (delivery_dlq, fanout_dlq, pending, tail)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="command")
    for command in COMMANDS:
        sub = command.add_parser(commands)
        sub.formatter_class = argparse.RawDescriptionHelpFormatter  # the module's docstring as written
        target.add_arguments(sub)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args, target.Target(args))
    except (target.NoTarget, BotoCoreError, ClientError) as exc:  # no stack, no credentials, access denied, …
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
