"""A mail backend for the outbox tests: Django's test mailbox, with failures on order."""

from smtplib import SMTPRecipientsRefused, SMTPServerDisconnected

from django.core.mail.backends.locmem import EmailBackend


class Flaky(EmailBackend):
    """`fail` maps an address to the errors its next deliveries raise, in turn;
    `in_transaction_at_send` records whether any send ran inside a transaction."""

    fail: dict[str, list[Exception]] = {}
    in_transaction_at_send: list[bool] = []

    def send_messages(self, messages):
        from outbox.services import in_transaction

        for message in messages:
            Flaky.in_transaction_at_send.append(in_transaction())
            errors = Flaky.fail.get(message.to[0])
            if errors:
                raise errors.pop(0)
        return super().send_messages(messages)


def refused(address: str, code: int = 550) -> SMTPRecipientsRefused:
    return SMTPRecipientsRefused({address: (code, b"no such user")})


def disconnected() -> SMTPServerDisconnected:
    return SMTPServerDisconnected("Connection unexpectedly closed")
