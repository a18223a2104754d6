"""A job seeker's whole mailbox through the real pipeline: what gets tracked, and what not.

1,500 messages of ``mailgen.inbox_message`` (150 companies, each acknowledging an
application and inviting to interviews; 70% newsletters, job alerts, receipts and friends)
from a Maildir, with the shipped model, SQLite and the tracker. Scenarios test one rule at a
time; this tests that the rules together hold on a realistic mix at scale.
"""

from __future__ import annotations

from sqlalchemy import select

from interviewd.applications import TrackingService
from interviewd.config import parse_config_text
from interviewd.service import load_classifier, open_store, sync_all_once
from interviewd.store.models import Application, Company, Message
from interviewd.tracker.matching import registrable
from mailgen import INBOX_COMPANIES, inbox_message

COUNT = 1500


def test_a_realistic_mailbox_tracks_the_companies_and_nothing_else(tmp_path):
    root = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for i in range(COUNT):
        (root / "cur" / f"{i:05d}.test:2,S").write_bytes(inbox_message(i))
    config = parse_config_text(
        f"accounts: [{{name: me, type: maildir, path: '{root}', sent_folder: '',"
        " user_addresses: [sam@example.net]}]\n"
        f"store: {{url: 'sqlite:///{tmp_path}/t.db'}}\n"
    )
    store = open_store(config)
    try:
        [report] = sync_all_once(config, store, classifier=load_classifier(config)).values()
        assert not isinstance(report, str) and report.stored == COUNT
        TrackingService(config, store).process_new_messages()
        with store.session() as s:
            companies = {c.id: (c.name, tuple(c.domains)) for c in s.scalars(select(Company))}
            apps = list(s.scalars(select(Application)))
            attached = list(s.scalars(select(Message).where(Message.application_pk.is_not(None))))
    finally:
        store.close()

    names = {name for name, _ in INBOX_COMPANIES}
    domains = {domain for _, domain in INBOX_COMPANIES}
    # Every application is one of the 150 employers: none for a newsletter, a shop, a bank
    # or a friend writing from webmail.
    for app in apps:
        name, company_domains = companies[app.company_pk]
        assert name in names or any(registrable(d) in domains for d in company_domains), name
    assert 140 <= len(apps) <= 160  # one application per company, give or take the model
    # Nothing but employer mail is attached; bulk mail only ever by thread.
    for message in attached:
        assert message.message_id.startswith("job-"), (message.subject, message.match_reason)
