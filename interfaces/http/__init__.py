"""The HTTP API (Flask + flask-smorest): `create_app(data_dir)` in `app.py`.

This package's `__init__` imports nothing heavy, so `interfaces.http.signing`
(the request-signature format) can be used by clients without Flask.
"""
