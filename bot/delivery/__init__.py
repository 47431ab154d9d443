"""Messages people receive outside a reply: composed and queued in the outbox (the notices),
then sent exactly once (sender)."""
