"""API-key checks, so a client that forgets (or mangles) its key fails here
exactly as it would against the real service.

The key value ``"bad-key"`` is treated as revoked/invalid and gets each
provider's real authentication error; any other non-empty key is accepted.
"""

from __future__ import annotations

from .errors import ErrorSpec, gemini_api_key_invalid
from .recorded import Protocol

BAD_KEY = "bad-key"


def extract_key(protocol: Protocol, headers: dict[str, str], query: dict[str, str]) -> str | None:
    """The API key the client sent, wherever that protocol allows it."""
    if protocol == "gemini":
        return headers.get("x-goog-api-key") or query.get("key") or None
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key") or None


def check_auth(
    protocol: Protocol, headers: dict[str, str], query: dict[str, str]
) -> ErrorSpec | None:
    """None when the key is acceptable, else the provider's auth error."""
    key = extract_key(protocol, headers, query)
    if protocol == "openai":
        if key is None:
            return ErrorSpec(
                status=401,
                message="You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), "
                "or as the password field (with blank username) if you're accessing the API "
                "from your browser and are prompted for a username and password. You can "
                "obtain an API key from https://platform.openai.com/account/api-keys.",
                error_type="invalid_request_error",
            )
        if key == BAD_KEY:
            return ErrorSpec(
                status=401,
                message=f"Incorrect API key provided: {key}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                error_type="invalid_request_error",
                code="invalid_api_key",
            )
        return None
    if protocol == "anthropic":
        if key is None:
            return ErrorSpec(
                status=401,
                message="x-api-key header is required",
                error_type="authentication_error",
            )
        if key == BAD_KEY:
            return ErrorSpec(
                status=401, message="invalid x-api-key", error_type="authentication_error"
            )
        if "anthropic-version" not in headers:
            return ErrorSpec(
                status=400,
                message="anthropic-version: header is required",
                error_type="invalid_request_error",
            )
        return None
    if key is None:
        return ErrorSpec(
            status=403,
            message="Method doesn't allow unregistered callers (callers without established "
            "identity). Please use API Key or other form of API consumer identity to call "
            "this API.",
            error_type="PERMISSION_DENIED",
        )
    if key == BAD_KEY:
        return gemini_api_key_invalid()
    return None
