"""Embedded services a run needs without any setup: the shared Redis Stack of the data folder and its OpenSSL."""
