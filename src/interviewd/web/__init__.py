"""The web board: a small server-rendered ASGI app over the same service layer as the CLI."""
