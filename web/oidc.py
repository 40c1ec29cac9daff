"""Single sign-on with OpenID Connect (Authlib's Flask client): the start, which sends the
person to the identity provider, and the callback, where Authlib checks the state, the
nonce and the ID token (signature from the provider's keys, issuer, audience, expiry) and
services.single_sign_on decides who, if anyone, is signed in.

Not configured (config.oidc_settings is None): no button, and both routes answer 404.

The start is a plain link (GET): a POST form would be stopped by the CSP's
`form-action 'self'` when it redirects to the provider. It changes nothing but the
session's pending state; the state, kept in the session and echoed by the provider, is
what protects the callback from someone else's sign-in."""

from __future__ import annotations

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, abort, current_app, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import login_user
from joserfc.errors import JoseError

from config import OIDC_SCOPES, OidcSettings, oidc_settings
from extensions import limiter
from mail.links import absolute_url
from services import single_sign_on
from web.account import begin_second_step
from web.auth import _keep_language, _safe_next

bp = Blueprint("oidc", __name__)
CLIENT = "sso"
NEXT_KEY = "oidc_next"


def init_app(app) -> None:
    """Registers the provider when single sign-on is configured; refuses half a
    configuration at start (config.oidc_settings)."""
    settings = oidc_settings(app.config)
    app.extensions["formdesk_oidc"] = settings
    if settings is None:
        return
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.discovery_url,
        client_kwargs={"scope": OIDC_SCOPES, "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions["formdesk_oauth"] = oauth


def configured() -> OidcSettings | None:
    return current_app.extensions.get("formdesk_oidc")


@bp.app_context_processor
def sign_on_button() -> dict:
    return {"single_sign_on": configured()}


def _client():
    if configured() is None:
        abort(404)
    return getattr(current_app.extensions["formdesk_oauth"], CLIENT)


def _login_limit() -> str:
    return current_app.config["FORMDESK_LOGIN_LIMIT_PER_ADDRESS"]


def _refused(message: str, status: int):
    return render_template("auth/oidc_refused.html", message=message), status


@bp.get("/login/sso")
@limiter.limit(_login_limit)
def start():
    client = _client()
    session[NEXT_KEY] = _safe_next(request.args.get("next"))
    try:
        return client.authorize_redirect(absolute_url("oidc.callback"))
    except (requests.RequestException, AuthlibBaseError, ValueError):
        current_app.logger.exception("single sign-on: the provider's discovery failed")
        return _unreachable()


def _unreachable():
    return _refused(
        _("The sign-in service cannot be reached right now. Try again in a few minutes."), 503
    )


@bp.get("/login/sso/callback")
@limiter.limit(_login_limit)
def callback():
    client = _client()
    try:
        token = client.authorize_access_token()
    except requests.RequestException:
        current_app.logger.exception("single sign-on: the provider's token endpoint failed")
        return _unreachable()
    except (AuthlibBaseError, JoseError, ValueError) as error:
        # A wrong or reused state, an error sent back by the provider (the person said no),
        # an ID token whose signature, issuer, audience, nonce or time is not right.
        current_app.logger.warning("single sign-on refused by the check: %s", type(error).__name__)
        return _refused(
            _("The sign-in with your organisation's account did not complete. Start again."),
            400,
        )
    claims = token.get("userinfo")
    if not claims:  # no ID token: not OpenID Connect
        return _refused(
            _("The sign-in with your organisation's account did not complete. Start again."),
            400,
        )
    try:
        signed_in = single_sign_on.sign_in(claims, configured().issuer)
    except single_sign_on.SignInRefused as refusal:
        return _refused(str(refusal), 403)
    user = signed_in.user
    next_url = session.pop(NEXT_KEY, None) or _safe_next(None)
    chosen = session.get("lang")
    if user.has_two_factor:  # the code is still asked: the provider's sign-in is one factor
        return begin_second_step(user, next_url, chosen)
    session.clear()  # a new session at sign-in: no fixation
    login_user(user)
    _keep_language(user, chosen or user.language)
    return redirect(next_url)
