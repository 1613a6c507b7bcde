"""Fixed keys and a fixed clock: every token in these tests is reproducible."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from epigrid.healthcode import keylists, tokens
from epigrid.healthcode.keylists import PublicKey, PublicKeyList, load_trust_list

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
TTL = timedelta(minutes=10)
CODE_ID = bytes(range(16))
# the Jiangsu key rotated at ROTATION: the old key stays published until RETIRED so codes it
# signed just before the rotation still verify, then drops out
ROTATION = T0 + timedelta(minutes=30)
RETIRED = ROTATION + timedelta(minutes=15)


def seeded_key(seed: int) -> Ed25519PrivateKey:
    return keylists.private_key_from_bytes(bytes([seed]) * 32)


@dataclass
class Issuer:
    name: str
    signing_key: Ed25519PrivateKey
    public: PublicKey

    @property
    def kid(self) -> bytes:
        return self.public.kid

    def issue(self, colour="green", issued_at=T0, ttl=TTL, code_id=CODE_ID) -> str:
        return tokens.issue(self.signing_key, self.name, self.kid, code_id, colour, issued_at, ttl)


def make_issuer(name, seed, not_before, not_after=None) -> Issuer:
    key = seeded_key(seed)
    return Issuer(name, key, PublicKey.for_signing_key(name, key, not_before, not_after))


@pytest.fixture
def js_old():
    return make_issuer("CN-32", 1, T0 - timedelta(days=30), RETIRED)


@pytest.fixture
def js_new():
    return make_issuer("CN-32", 2, ROTATION)


@pytest.fixture
def zj():
    return make_issuer("CN-33", 3, T0 - timedelta(days=30))


@pytest.fixture
def js_keys(js_old, js_new):
    return PublicKeyList("CN-32", [js_old.public, js_new.public])


@pytest.fixture
def trust(js_keys, zj):
    """What a Jiangsu checkpoint trusts: its own keys and Zhejiang's (mutual recognition)."""
    return load_trust_list(js_keys.to_json(), PublicKeyList("CN-33", [zj.public]).to_dict())


@pytest.fixture
def env(js_old, js_new, zj):
    """Everyone the reason table needs: both Jiangsu keys, Zhejiang, a stranger's key and
    Guangdong, whom the checkpoint does not trust."""
    stranger = seeded_key(7)
    return SimpleNamespace(
        js_old=js_old,
        js_new=js_new,
        zj=zj,
        stranger=stranger,
        stranger_kid=keylists.derive_kid(keylists.public_key_bytes(stranger)),
        gd=make_issuer("CN-44", 8, T0 - timedelta(days=30)),
    )


# --- Django-level fixtures -------------------------------------------------------------------

GRID = "320583001001001"  # a grid cell of the demo city (Kunshan)
TAICANG_GRID_PREFIX = "320585"  # another county


@pytest.fixture(autouse=True)
def _fresh_trust_cache():
    """The online verifier caches the trust list per process: never across tests' databases."""
    from epigrid.healthcode import keys

    keys.invalidate_cache()
    yield
    keys.invalidate_cache()


@pytest.fixture
def facts():
    """Facts about persons for the rules, as a producer app would contribute them:
    `facts[str(person.pk)] = {"contact": ContactStatus(...)}`."""
    from epigrid.rules import registry

    data: dict[str, dict] = {}

    def source(persons, at):
        return {str(p.pk): data[str(p.pk)] for p in persons if str(p.pk) in data}

    registry.register_facts_source("test-healthcode", source)
    yield data
    registry._FACTS_SOURCES.pop("test-healthcode", None)


@pytest.fixture
def assess(system):
    """Reassess a person at a controlled time, as the rules' review or a fact producer does."""
    from epigrid.rules.services import reassess

    def run(person, at=None, cause="test"):
        return reassess(person, actor=system, at=at, cause=cause)

    return run


@pytest.fixture
def api_token(persona):
    """An API token for a new user of a role: (user, "Bearer egt_…")."""
    from epigrid.accounts.audit import Actor
    from epigrid.accounts.services import create_token

    def make(role, prefixes=None):
        user = persona(role, prefixes=prefixes)
        _, secret = create_token(actor=Actor.system("test"), user=user, name="scanner")
        return user, f"Bearer {secret}"

    return make
