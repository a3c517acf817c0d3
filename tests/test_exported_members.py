"""The package's public API is exactly what __all__ says (a change here is a release note)."""

import mock_server


def test_public_api_is_pinned() -> None:
    assert sorted(mock_server.__all__) == ["MockServer", "Settings", "VirtualClock", "create_app"]
    for name in mock_server.__all__:
        assert getattr(mock_server, name) is not None
