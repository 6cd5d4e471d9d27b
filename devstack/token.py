"""Bearer tokens as the host app's identity provider issues them: locally, the stack plays its part (as it does the
host's bus), with its JWT secret. `make token` (devtools.token) prints one."""

import time

import jwt


def mint(company: str, sub: str, role: str, secret: str, projects: list[str] | None = None, ttl: int = 3600) -> str:
    issued = int(time.time())
    claims = {"sub": sub, "company": company, "role": role, "iat": issued, "exp": issued + ttl}
    if projects:
        claims["projects"] = projects
    return jwt.encode(claims, secret, algorithm="HS256")
