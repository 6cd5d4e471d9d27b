"""Bearer tokens as the host app's identity provider issues them: locally, the stack plays its part (as it does the
host's bus), with its JWT secret. `make token` (devtools.token) prints one."""

import time
import warnings

import jwt
from jwt.warnings import InsecureKeyLengthWarning

DEFAULT_JWT_SECRET = "local-dev-secret"  # noqa: S105 - DESIGN: the local default, announced


def mint(
    company: str,
    sub: str,
    role: str,
    secret: str,
    projects: list[str] | None = None,
    ttl: int = 3600,
    claims: dict | None = None,
) -> str:
    """`claims`: more of them, e.g. the issuer and audience a deployed stack checks."""
    issued = int(time.time())
    claims = {**(claims or {}), "sub": sub, "company": company, "role": role, "iat": issued, "exp": issued + ttl}
    if projects:
        claims["projects"] = projects
    return jwt.encode(claims, secret, algorithm="HS256")


def quiet_local_default(secret: str) -> None:
    """DESIGN fixes the local default key, 16 bytes: PyJWT would warn on every token signed or checked with it.
    A process that uses that key says so once (its ready line); a key someone configured still gets the warning."""
    if secret == DEFAULT_JWT_SECRET:
        warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
