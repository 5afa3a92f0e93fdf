"""Identity: OpenID Connect discovery, id token verification, access policy and roles.

Streamlit-free; the sign-in UI lives in ``ui/auth_gate.py``.
"""

from assistant.auth.oidc import DiscoveryCache, ProviderMetadata, clear_discovery_cache, get_provider_metadata
from assistant.auth.policy import (
    NOT_ALLOWED_MESSAGE,
    authorize_identity,
    check_access,
    dev_identity,
    identity_expired,
)
from assistant.auth.tokens import (
    ALLOWED_ALGORITHMS,
    AuthError,
    Identity,
    JwksCache,
    Role,
    clear_jwks_caches,
    default_jwks_cache,
    verify_id_token,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "NOT_ALLOWED_MESSAGE",
    "AuthError",
    "DiscoveryCache",
    "Identity",
    "JwksCache",
    "ProviderMetadata",
    "Role",
    "authorize_identity",
    "check_access",
    "clear_discovery_cache",
    "clear_jwks_caches",
    "default_jwks_cache",
    "dev_identity",
    "get_provider_metadata",
    "identity_expired",
    "verify_id_token",
]
