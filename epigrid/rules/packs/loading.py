"""Reading pack files: YAML that refuses duplicate keys, and `load_pack` for one file. The shipped
packs are the YAML files of this directory (`PACKS_DIR`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..conditions.node import gettext as _
from .schema import Pack, PackError
from .validation import parse_pack

PACKS_DIR = Path(__file__).parent


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which plain YAML silently resolves to the last."""


def _mapping_without_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load_pack(path: str | Path) -> Pack:
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PackError(_("not valid YAML: %(exc)s") % {"exc": exc}, path.name) from None
    return parse_pack(data, path.name)
