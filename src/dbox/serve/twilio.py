"""Twilio's webhooks: ``POST /twilio/inbound`` (an SMS received) and ``POST /twilio/status``
(a delivery status of a message dbox sent, when ``dbox send`` gave Twilio a StatusCallback).

Every request is checked before anything is read into the store: its ``X-Twilio-Signature`` must
be the HMAC-SHA1 Twilio computes over the public URL it called (``public_url`` + path + query) and
the sorted POST parameters, keyed by the account's auth token (the one ``dbox channels setup sms``
stored), checked with the twilio library's own ``RequestValidator``. Missing or wrong: 403 and
nothing changes. Both endpoints are idempotent on ``MessageSid`` (a status on MessageSid and
status), so Twilio's retries and replayed requests change nothing the second time.
"""

from __future__ import annotations

import logging

from dbox.serve.app import in_store, public_url_for, small_body
from dbox.channels import get_channel
from dbox.serve.inbox import receive
from dbox.sending.service import take_status

logger = logging.getLogger("dbox.serve")
MAX_BODY = 64 * 1024
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _auth_token() -> str | None:
    return get_channel("sms").settings().get("auth_token")


async def verified_form(request) -> dict[str, str] | None:
    """The POST parameters when the signature holds, else None (the caller answers 403)."""
    from urllib.parse import parse_qsl

    from starlette.concurrency import run_in_threadpool
    from twilio.request_validator import RequestValidator

    signature = request.headers.get("x-twilio-signature")
    if not signature:
        return None
    body = await small_body(request, MAX_BODY)
    if body is None:
        return None
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    token = await run_in_threadpool(_auth_token)
    if not token:
        logger.warning('{"event":"twilio-webhook-refused","why":"no auth token: run dbox channels setup sms"}')
        return None
    if not RequestValidator(token).validate(public_url_for(request), params, signature):
        return None
    return params


def _forbidden():
    from starlette.responses import PlainTextResponse

    return PlainTextResponse("forbidden", status_code=403)


def _twiml():
    from starlette.responses import Response

    return Response(EMPTY_TWIML, media_type="text/xml")


async def inbound(request):
    form = await verified_form(request)
    if form is None or not form.get("MessageSid"):
        return _forbidden()
    await in_store(request, receive, form["MessageSid"], form.get("From", ""), form.get("Body", ""),
                   form.get("To") or None)
    return _twiml()


async def status(request):
    form = await verified_form(request)
    if form is None or not form.get("MessageSid"):
        return _forbidden()
    state = form.get("MessageStatus") or form.get("SmsStatus") or ""
    if state:
        await in_store(request, take_status, form["MessageSid"], state, form.get("ErrorCode") or None)
    return _twiml()


def register_routes(register) -> None:
    from starlette.routing import Route

    register(Route("/twilio/inbound", inbound, methods=["POST"]))
    register(Route("/twilio/status", status, methods=["POST"]))
