"""Handing messages over: e-mail by SMTP (smtp.py, with a local sink for demos, mail_sink.py) and
SMS by Twilio (sms.py, or files under var/sms/ when no Twilio account is configured).

Every sender says how a failure ended, because exactly-once sending (sending.py) depends on it:
- `transient`: nothing was handed over, try again later (server busy, connection refused);
- `permanent`: nothing was handed over and trying again will not help (refused address, bad number);
- `in_doubt`: the provider may or may not have the message (the connection broke after the data
  went out). Never retried blindly: the send is looked up first (`lookup`).
"""

from __future__ import annotations


class DeliveryError(Exception):
    """A message that was not (or maybe not) handed over. `outcome`: transient | permanent | in_doubt."""

    def __init__(self, outcome: str, message: str, code: str | int | None = None):
        assert outcome in ("transient", "permanent", "in_doubt")
        self.outcome, self.code = outcome, code
        super().__init__(message)
