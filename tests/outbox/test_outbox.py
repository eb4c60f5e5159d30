"""The outbox: each e-mail a row, one per recipient, sent after the commit and outside any
transaction, marked sent only when the server accepted it, retried with back-off, dead after
a permanent refusal or the last attempt, and resent from the Dutch admin."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from fund.access import ensure_roles
from fund.checks import FundRuleError
from outbox import services as outbox
from outbox.models import Message, MessageStatus
from outbox.services import Letter
from tests.factories import UserFactory
from tests.helpers import deliver_outbox

from .backends import Flaky, disconnected, refused

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.outbox.backends.Flaky"
    settings.OUTBOX_RETRY_SECONDS = 60
    settings.OUTBOX_MAX_ATTEMPTS = 3
    Flaky.fail = {}
    Flaky.in_transaction_at_send = []
    return Flaky


def letters(*addresses):
    return [Letter(to=a, subject=f"Bericht aan {a}", body="Tekst.") for a in addresses]


def make_due():
    Message.objects.filter(status=MessageStatus.QUEUED).update(next_attempt_at=timezone.now())


def test_one_message_per_recipient_once_per_cause():
    assert outbox.enqueue("plan-step:1", letters("a@x.nl", "b@x.nl", "a@x.nl")) == 2
    assert outbox.enqueue("plan-step:1", letters("a@x.nl", "b@x.nl")) == 0  # a sweep again
    assert outbox.enqueue("plan-step:2", letters("a@x.nl")) == 1
    ids = list(Message.objects.values_list("message_id", flat=True))
    assert len(set(ids)) == 3 and all(i.startswith("<") and "@" in i for i in ids)


def test_a_failure_mid_batch_resends_only_what_was_not_accepted(flaky):
    outbox.enqueue("reminder", letters("a@x.nl", "b@x.nl", "c@x.nl", "d@x.nl"))
    flaky.fail = {"c@x.nl": [disconnected()]}
    first = {m.to[0] for m in deliver_outbox()}
    assert first == {"a@x.nl", "b@x.nl", "d@x.nl"}
    failed = Message.objects.get(to="c@x.nl")
    assert failed.status == MessageStatus.QUEUED and "SMTPServerDisconnected" in failed.last_error
    assert failed.next_attempt_at > timezone.now() + timedelta(seconds=40)  # backed off
    assert deliver_outbox() == []  # not before its time
    make_due()
    assert [m.to[0] for m in deliver_outbox()] == ["c@x.nl"]
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 4


def test_the_back_off_grows_and_stops_at_its_maximum(settings):
    settings.OUTBOX_RETRY_MAX_SECONDS = 300
    waits = [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 10)]
    assert 48 <= waits[0] <= 72 and 96 <= waits[1] <= 144 and 192 <= waits[2] <= 288
    assert waits[3] <= 360


def test_a_permanent_refusal_is_dead_at_once_and_a_temporary_one_after_the_last_attempt(flaky):
    outbox.enqueue("x", letters("gone@x.nl", "busy@x.nl"))
    flaky.fail = {"gone@x.nl": [refused("gone@x.nl", 550)],
                  "busy@x.nl": [refused("busy@x.nl", 451)] * 3}  # fmt: skip
    deliver_outbox()
    assert Message.objects.get(to="gone@x.nl").status == MessageStatus.DEAD
    for _attempt in range(2):
        assert Message.objects.get(to="busy@x.nl").status == MessageStatus.QUEUED
        make_due()
        deliver_outbox()
    busy = Message.objects.get(to="busy@x.nl")
    assert (busy.status, busy.attempts) == (MessageStatus.DEAD, 3)


def test_nothing_is_sent_inside_a_transaction(flaky):
    outbox.enqueue("x", letters("a@x.nl"))
    with transaction.atomic(), pytest.raises(RuntimeError, match="inside a database"):
        outbox.send(Message.objects.get())
    deliver_outbox()
    assert flaky.in_transaction_at_send == [False]


def test_a_message_a_dead_worker_held_is_sent_after_its_lease_under_its_own_message_id():
    outbox.enqueue("x", letters("a@x.nl"))
    claimed = outbox.claim()
    assert claimed.status == MessageStatus.SENDING and outbox.claim() is None
    assert deliver_outbox() == []  # another worker leaves it while the lease runs
    Message.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    [message] = deliver_outbox()
    assert message.extra_headers["Message-ID"] == claimed.message_id
    assert Message.objects.get().attempts == 2


def test_a_subject_is_one_line_and_texts_lose_what_no_mail_can_carry():
    outbox.enqueue("x", [Letter(to="a@x.nl", subject="Regel 1\nRegel\x01 2", body="A\u202eB\nC")])
    row = Message.objects.get()
    assert (row.subject, row.body) == ("Regel 1 Regel 2", "AB\nC")
    [message] = deliver_outbox()
    assert message.subject == "Regel 1 Regel 2"


# --- The admin ----------------------------------------------------------------------------------


def staff(group: str):
    ensure_roles()
    user = UserFactory(username=group, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_the_outbox_admin_lists_in_dutch_and_a_fund_manager_sends_again(client, flaky):
    outbox.enqueue("report:1", letters("fonds@x.nl"))
    flaky.fail = {"fonds@x.nl": [refused("fonds@x.nl", 550)]}
    deliver_outbox()
    client.force_login(staff("fondsbeheerder"))
    url = reverse("admin:outbox_message_changelist")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Niet bezorgd" in page and "Opnieuw versturen" in page and "fonds@x.nl" in page
    response = client.post(
        url,
        {"action": "resend", "_selected_action": [Message.objects.get().pk]},
        HTTP_ACCEPT_LANGUAGE="nl",
        follow=True,
    )
    assert "wordt opnieuw verstuurd" in response.content.decode()
    row = Message.objects.get()
    assert (row.status, row.attempts) == (MessageStatus.QUEUED, 0)
    assert [m.to[0] for m in deliver_outbox()] == ["fonds@x.nl"]


def test_a_reviewer_reads_the_outbox_but_cannot_send_again(client):
    outbox.enqueue("report:1", letters("fonds@x.nl"))
    Message.objects.update(status=MessageStatus.DEAD, attempts=3)
    client.force_login(staff("beoordelaar"))
    url = reverse("admin:outbox_message_changelist")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "fonds@x.nl" in page and "Opnieuw versturen" not in page
    client.post(url, {"action": "resend", "_selected_action": [Message.objects.get().pk]})
    row = Message.objects.get()
    assert (row.status, row.attempts) == (MessageStatus.DEAD, 3)
    with pytest.raises(FundRuleError):  # the service refuses too, not only the screen
        outbox.resend(Message.objects.all(), actor=staff("alleen-lezen"))
    assert deliver_outbox() == []


def test_a_worker_lost_on_every_attempt_makes_the_message_dead(settings):
    outbox.enqueue("x", letters("a@x.nl"))
    Message.objects.update(
        status=MessageStatus.SENDING,
        attempts=settings.OUTBOX_MAX_ATTEMPTS,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert outbox.claim() is None
    assert Message.objects.get().status == MessageStatus.DEAD


def test_an_outcome_is_not_recorded_over_another_workers_claim():
    outbox.enqueue("x", letters("a@x.nl"))
    mine = outbox.claim()
    # My lease ran out and another worker claimed it again.
    Message.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    theirs = outbox.claim()
    assert theirs.attempts == mine.attempts + 1
    Message.objects.update(lease_until=timezone.now() + timedelta(minutes=5))
    mine.lease_until = timezone.now() + timedelta(minutes=5)
    outbox.deliver(mine)  # sends (the unknowable case), but must not mark their claim
    row = Message.objects.get()
    assert (row.status, row.attempts) == (MessageStatus.SENDING, theirs.attempts)


def test_an_e_mail_gives_up_by_age_not_only_by_count(settings, flaky):
    settings.OUTBOX_MAX_ATTEMPTS = 100
    outbox.enqueue("x", letters("a@x.nl"))
    flaky.fail = {"a@x.nl": [disconnected(), disconnected()]}
    deliver_outbox()
    assert Message.objects.get().status == MessageStatus.QUEUED
    Message.objects.update(queued_at=timezone.now() - timedelta(hours=73))
    make_due()
    deliver_outbox()
    assert Message.objects.get().status == MessageStatus.DEAD
    # Sent again by a fund manager, it gets its full time again, not a single attempt.
    outbox.resend(Message.objects.all(), actor=staff("fondsbeheerder"))
    flaky.fail = {"a@x.nl": [disconnected()]}
    deliver_outbox()
    assert Message.objects.get().status == MessageStatus.QUEUED
