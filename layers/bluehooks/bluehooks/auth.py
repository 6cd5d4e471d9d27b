"""Bearer-token authentication of API callers (HS256 JWT, DESIGN: API contract)."""

import jwt
from aws_lambda_powertools.utilities import parameters
from pydantic import ValidationError

from bluehooks.models import Caller

REQUIRED_CLAIMS = ["sub", "company", "role"]


class AuthError(Exception):
    """No token, or one that does not verify; the message is safe to return."""


def signing_key(parameter_name: str) -> str:
    """The HS256 key, from an SSM SecureString parameter (cached for 5 minutes)."""
    return parameters.get_parameter(parameter_name, decrypt=True, max_age=300)


def authenticate(authorization: str | None, key: str) -> Caller:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("missing bearer token: send 'Authorization: Bearer <JWT>'")
    try:
        claims = jwt.decode(token.strip(), key, algorithms=["HS256"], options={"require": REQUIRED_CLAIMS})
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"invalid token: {exc}") from exc
    try:
        return Caller.model_validate(claims)
    except ValidationError as exc:
        fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
        raise AuthError(f"invalid token claims: {fields}") from exc
