"""The market's tests use the API's fixtures: a real catalog (SQLite and PostgreSQL, each test
on a fresh database), and the app over it where a test drives the market through its routes."""

from tests.api.conftest import client, store  # noqa: F401
