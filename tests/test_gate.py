"""Access to the UI: loopback detection, the exposure warning, and the password gate."""

import pytest

from healthmon.ui.gate import PASSWORD_ENV, exposure_warning, is_loopback


@pytest.mark.parametrize("address, loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                               ("0.0.0.0", False), ("", False), ("192.168.1.5", False)])
def test_is_loopback(address, loopback):
    assert is_loopback(address) is loopback


def test_no_warning_on_loopback():
    assert exposure_warning("127.0.0.1", api_token_set=False) is None


def test_exposed_without_token_or_login_warns(monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    warning = exposure_warning("0.0.0.0", api_token_set=False)
    assert "HEALTHMON_API_TOKEN" in warning and PASSWORD_ENV in warning


def test_exposed_with_token_and_password_is_quiet(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    assert exposure_warning("0.0.0.0", api_token_set=True) is None
