"""The pure rules tests read the engine's messages in their English source text; the site's
default language is zh-hans, so without this they would read the Chinese catalog."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english_messages():
    with translation.override("en"):
        yield
