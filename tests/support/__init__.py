"""Helpers the tests share: stand-in servers, fixtures, harnesses and scripted models (imported as `support.*`)."""
