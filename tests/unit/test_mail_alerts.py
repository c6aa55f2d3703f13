"""The pool's mail alerts (other_config mail-destination, ssmtp-mailhub,
mail-min-priority): checked as text in words, nothing contacted, written
over real HTTP and removed when emptied."""

from __future__ import annotations

import pytest

from xstui.services.actions import InvalidInput, RunContext
from xstui.services.metrics.mail import MailConfig, SetMailAlerts


def typed(**values) -> dict:
    return {"destination": "", "mailhub": "", "priority": "", **values}


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"destination": "ops", "mailhub": "smtp"}, "'ops' is not an e-mail address"),
        ({"destination": "ops@localhost", "mailhub": "smtp"}, "'localhost' is not a domain"),
        ({"destination": "a b@x.org", "mailhub": "smtp"}, "not an e-mail address"),
        ({"destination": "ops@x.org", "mailhub": "smtp_1"}, "'smtp_1' is not a host name"),
        ({"destination": "ops@x.org", "mailhub": "smtp:0"}, "port must be between 1 and 65535"),
        ({"destination": "ops@x.org", "mailhub": "smtp:x"}, "port 'x' is not a number"),
        ({"destination": "ops@x.org", "mailhub": "[::1]x"}, "after ']' only ':port'"),
        ({"destination": "ops@x.org", "mailhub": "300.1.1.1"}, "mail server"),
        ({"destination": "ops@x.org"}, "an address and a mail server go together"),
        ({"mailhub": "smtp"}, "an address and a mail server go together"),
        (
            {"destination": "ops@x.org", "mailhub": "smtp", "priority": "9"},
            "priority must be between 1 and 5",
        ),
        ({"priority": "2"}, "a priority without an address mails nothing"),
    ],
)
def test_bad_mail_settings_are_refused_in_words(values, words):
    with pytest.raises(InvalidInput) as refused:
        SetMailAlerts("OpaqueRef:p", "pu", MailConfig(), typed(**values))
    assert any(words in p for p in refused.value.problems), refused.value.problems


@pytest.mark.parametrize(
    "hub", ["smtp", "mail.example.com:587", "10.0.0.5:25", "[fd00::1]:25", "fd00::1"]
)
def test_a_mail_server_is_any_host_name_or_address_with_an_optional_port(hub):
    action = SetMailAlerts(
        "OpaqueRef:p", "pu", MailConfig(), typed(destination="o@x.org", mailhub=hub)
    )
    assert action.new.mailhub == hub


def test_mail_alerts_set_shown_and_removed_over_http(connection, running_sim, xapi):
    connection.load_once()
    x = xapi.xenapi
    pool = x.pool.get_all()[0]
    uuid = x.pool.get_uuid(pool)
    was = MailConfig.of(x.pool.get_other_config(pool))
    assert was.words == "no mail alerts"
    action = SetMailAlerts(
        pool,
        uuid,
        was,
        typed(destination="ops@example.com", mailhub="smtp.example.com:25", priority="2"),
    )
    plan = action.plan()
    assert f"xe pool-param-set uuid={uuid} other-config:mail-destination=ops@example.com" in plan.xe
    assert "Was: no mail alerts." in plan.impact
    said = action.execute(RunContext(connection))
    assert "mailed to ops@example.com through smtp.example.com:25, priority 2" in said
    now = MailConfig.of(x.pool.get_other_config(pool))
    assert now == MailConfig("ops@example.com", "smtp.example.com:25", "2")
    SetMailAlerts(pool, uuid, now, typed()).execute(RunContext(connection))
    config = x.pool.get_other_config(pool)
    assert not {"mail-destination", "ssmtp-mailhub", "mail-min-priority"} & set(config)
