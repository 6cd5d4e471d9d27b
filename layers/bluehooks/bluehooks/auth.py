"""Bearer-token authentication of API callers (HS256 JWT, DESIGN: API contract)."""

import jwt
from aws_lambda_powertools.utilities import parameters
from pydantic import ValidationError

from bluehooks.errors import Unauthenticated
from bluehooks.models import Caller

# exp and iat are required: a token that never expires is a password that can never be changed,
# and without iat its lifetime cannot be bounded.
REQUIRED_CLAIMS = ["sub", "company", "role", "exp", "iat"]
DEFAULT_MAX_LIFETIME_SECONDS = 86400


def signing_key(parameter_name: str) -> str:
    """The HS256 key, from an SSM SecureString parameter (cached for 5 minutes)."""
    return parameters.get_parameter(parameter_name, decrypt=True, max_age=300)


def authenticate(
    authorization: str | None,
    key: str,
    issuer: str | None = None,
    audience: str | None = None,
    max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS,
) -> Caller:
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
    _check_lifetime(claims, max_lifetime_seconds)
    try:
        return Caller.model_validate(claims)
    except ValidationError as exc:
        fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
        raise Unauthenticated(f"invalid token claims: {fields}") from exc


def _check_lifetime(claims: dict, max_lifetime_seconds: int) -> None:
    """exp and iat as JSON numbers (PyJWT also takes "9999999999"), exp at most the lifetime after iat."""
    for claim in ("exp", "iat"):
        if isinstance(claims[claim], bool) or not isinstance(claims[claim], int | float):
            raise Unauthenticated(f"invalid token: the {claim} claim must be a number")
    if claims["exp"] - claims["iat"] > max_lifetime_seconds:  # PyJWT has checked iat <= now < exp
        raise Unauthenticated(f"invalid token: exp must be within {max_lifetime_seconds} s of iat")
