"""Mail sources: where raw messages come from (IMAP servers, local Maildirs).

Sources hand over raw bytes and locations; they never parse or store.
"""
