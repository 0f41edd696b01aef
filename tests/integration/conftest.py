"""The in-process app fixtures of the API tests (a real app on a real store in tmp_path)."""

from tests.api.conftest import api, api_settings, center, cheap_hashes  # noqa: F401
