"""connexion's `run --mock=all`, served by uvicorn without access logs (its fastest setting).

Runs inside bench/.venv (connexion's dependencies stay out of the project's environment).
Same app as `connexion run SPEC --mock=all`; the only additions are the two security
handlers connexion requires before it serves a secured operation at all (see RESULTS.md).
"""

from __future__ import annotations

import argparse
from typing import Any

import yaml


def accept_bearer(token: str) -> dict[str, Any]:
    """Any well-formed bearer token passes, as in Prism (neither peer checks JWT claims)."""
    return {"sub": "bench", "token": token}


def accept_apikey(key: str, required_scopes: Any = None) -> dict[str, Any]:
    """Any X-Auth-Token passes."""
    return {"sub": "bench"}


def build(spec_path: str) -> Any:
    """The connexion AsyncApp of `connexion run --mock=all` for a 3.0 spec file."""
    import connexion
    from connexion.mock import MockResolver

    doc = yaml.safe_load(open(spec_path, encoding="utf-8"))
    for scheme in doc.get("components", {}).get("securitySchemes", {}).values():
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer":
            scheme["x-bearerInfoFunc"] = f"{__name__}.accept_bearer"
        elif scheme.get("type") == "apiKey":
            scheme["x-apikeyInfoFunc"] = f"{__name__}.accept_apikey"
    app = connexion.AsyncApp(__name__)
    app.add_api(doc, resolver=MockResolver(mock_all=True))
    return app


def main() -> None:
    """`python -m bench.peer_connexion --spec FILE --port N`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvicorn

    uvicorn.run(build(args.spec), host=args.host, port=args.port, access_log=False,
                log_level="warning")


if __name__ == "__main__":
    main()
