"""Who may use the UI: an OIDC login (st.login) or a shared password, and a warning when neither guards it.

The UI can run the model and stop monitoring, so an app reachable beyond this machine should be gated.
- OIDC: configure `[auth]` in `.streamlit/secrets.toml` (see the README); every visitor must log in.
- Password: set HEALTHMON_UI_PASSWORD; visitors type it once per browser session.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os

import streamlit as st

from healthmon.ui.i18n import translator

log = logging.getLogger("healthmon.ui")
t = translator("gate")
PASSWORD_ENV = "HEALTHMON_UI_PASSWORD"


def is_loopback(address: str) -> bool:
    """True for addresses only this machine can reach (an empty address means all interfaces)."""
    if address in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def exposure_warning(address: str, api_token_set: bool) -> str | None:
    """What is unguarded when the server listens beyond loopback; None when nothing is."""
    if is_loopback(address):
        return None
    missing = []
    if not api_token_set:
        missing.append("the REST API has no HEALTHMON_API_TOKEN")
    if not (os.environ.get(PASSWORD_ENV) or oidc_configured()):
        missing.append(f"the UI has no login (set {PASSWORD_ENV} or configure st.login)")
    if not missing:
        return None
    return f"healthmon is reachable beyond this machine (server.address={address or '0.0.0.0'}) and " + \
        "; ".join(missing) + ". Anyone who can reach it can run the model and stop monitoring."


def require_access() -> bool:
    """Show a login or password form and return False until the visitor may see the app."""
    if oidc_configured():
        if not st.user.get("is_logged_in", False):
            st.info(t("This healthmon requires you to log in."))
            st.button(t("Log in"), on_click=st.login, key="login")
            return False
        return True
    expected = os.environ.get(PASSWORD_ENV, "")
    if not expected or st.session_state.get("ui_authenticated"):
        return True
    st.info(t("This healthmon is protected by a password."))
    with st.form("password-gate"):
        given = st.text_input(t("Password"), type="password")
        if st.form_submit_button(t("Enter")):
            if hmac.compare_digest(given.encode(), expected.encode()):
                st.session_state["ui_authenticated"] = True
                st.rerun()
            st.error(t("Wrong password."))
    return False
