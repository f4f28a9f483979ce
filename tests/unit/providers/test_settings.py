"""Deployment settings from the environment: NEXA_RETENTION_DAYS, and a bad value named by its variable."""

from __future__ import annotations

import pytest

from nexa_research.errors import ResearchInputError
from nexa_research.providers.settings import ProviderSettings


@pytest.mark.parametrize(("value", "seconds"), [(None, 30 * 86400), ("0", 0), ("0.5", 43200), ("90", 90 * 86400)])
def test_retention_days_default_to_30_and_0_keeps_forever(
    monkeypatch: pytest.MonkeyPatch, value: str | None, seconds: float
) -> None:
    if value is None:
        monkeypatch.delenv("NEXA_RETENTION_DAYS", raising=False)
    else:
        monkeypatch.setenv("NEXA_RETENTION_DAYS", value)

    assert ProviderSettings.load().retention_seconds == seconds


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf", "1e9", ""])
def test_a_bad_retention_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NEXA_RETENTION_DAYS", value)

    with pytest.raises(ResearchInputError, match=r"NEXA_RETENTION_DAYS must be a number of days from 0") as caught:
        ProviderSettings.load()
    assert repr(value) in str(caught.value)


def test_any_bad_setting_is_named_by_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXA_LOCAL_CTX", "lots")

    with pytest.raises(ResearchInputError, match=r"^invalid setting: NEXA_LOCAL_CTX: "):
        ProviderSettings.load()
