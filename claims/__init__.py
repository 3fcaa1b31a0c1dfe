"""The lesson's claims, one module per lesson section."""
