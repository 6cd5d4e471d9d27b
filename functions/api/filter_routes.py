"""POST /filters/test: the fan-out's own matcher, on a filter and a delivery body, before a filter is saved."""

from http import HTTPStatus
from typing import Annotated

from answers import BODY_ANSWERS, answers
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from bluehooks.models import FilterTest, FilterVerdict
from bluehooks.rules import matching


def filter_router() -> Router:
    """Any signed-in caller may ask (MEMBER too): it reads nothing stored, and the fan-out's budget bounds it."""
    router = Router()

    @router.post(
        "/filters/test",
        operation_id="testFilter",
        summary="Whether a filter matches a delivery body, as the fan-out decides it (422 for an invalid filter)",
        responses=answers(*BODY_ANSWERS, success=(HTTPStatus.OK, FilterVerdict)),
    )
    def test_filter(body: Annotated[FilterTest, Body()]) -> FilterVerdict:
        matches, reason = matching.test(body.filter, body.payload())
        return FilterVerdict(matches=matches, reason=reason)

    return router
