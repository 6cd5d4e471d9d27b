"""Bearer-token authentication of API callers (HS256 JWT, DESIGN: API contract)."""

import jwt
from aws_lambda_powertools.utilities import parameters
from pydantic import ValidationError

from bluehooks.errors import Unauthenticated
from bluehooks.models import Caller

# exp is required: a token that never expires is a password that can never be changed.
REQUIRED_CLAIMS = ["sub", "company", "role", "exp"]


def signing_key(parameter_name: str) -> str:
    """The HS256 key, from an SSM SecureString parameter (cached for 5 minutes)."""
    return parameters.get_parameter(parameter_name, decrypt=True, max_age=300)


def authenticate(authorization: str | None, key: str, issuer: str | None = None, audience: str | None = None) -> Caller:
    """The caller of a verified token; Unauthenticated (its message safe to return) otherwise."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <JWT>'")
    if not key:
        raise Unauthenticated("invalid token: the API has no signing key configured")
    required = REQUIRED_CLAIMS + ["iss"] * bool(issuer) + ["aud"] * bool(audience)
    try:
        claims = jwt.decode(
            token.strip(),
            key,
            algorithms=["HS256"],
            issuer=issuer,
            audience=audience,
            options={"require": required, "verify_aud": bool(audience)},
        )
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    try:
        return Caller.model_validate(claims)
    except ValidationError as exc:
        fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
        raise Unauthenticated(f"invalid token claims: {fields}") from exc
