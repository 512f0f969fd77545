"""Customer notices (PIPL Art. 22): the audience from the scanned data, templates with every
legal element, channels (SMTP e-mail, SMS provider, letters), an exactly-once outbox.
See docs/notices.md. Flows in :mod:`handover.flows.notices` authorise and record."""
