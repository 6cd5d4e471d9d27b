"""Mint a development bearer token: python -m devtools.token [--role ADMIN] [--company c1] [--sub u1]."""

import argparse
import os

from devstack.token import DEFAULT_JWT_SECRET, mint, quiet_local_default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--company", default="company-1")
    parser.add_argument("--sub", default="user-1")
    parser.add_argument("--role", default="ADMIN", choices=["OWNER", "ADMIN", "PROJECT_MANAGER", "MEMBER"])
    parser.add_argument("--project", action="append", dest="projects", help="limit to this project (repeatable)")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    args = parser.parse_args()
    secret = os.environ.get("WEBHOOKS_JWT_SECRET", DEFAULT_JWT_SECRET)
    quiet_local_default(secret)
    print(mint(args.company, args.sub, args.role, secret, args.projects, args.ttl))


if __name__ == "__main__":
    main()
