"""Other approval platforms flowing into Signoff (WeCom callbacks)."""
