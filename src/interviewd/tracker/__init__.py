"""The tracker: pure rules that turn an application's facts into statuses and follow-ups."""
