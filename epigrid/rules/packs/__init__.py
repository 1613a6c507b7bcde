"""Rule packs: the YAML files of this directory, validated strictly and compiled once.

A pack is one policy document for one jurisdiction (a GB/T 2260 prefix, "" for the whole
country) over a validity period. Loading checks every key, operator, measure kind, reason and
cited clause, and fails with a `PackError` naming the file and the rule, so a pack that loads
is a pack the engine can run. `docs/rules.md` is the authors' guide.

Several packs in force at once (`packs_in_force`) combine into a `RuleSet`:
- every rule of every pack is evaluated; measures add up;
- a rule id defined by a broader and a more specific pack is taken from the more specific one
  (a city pack replaces a provincial rule by reusing its id);
- `overrides` lets a matching rule switch off other rules (by id pattern) or drop measures of
  given kinds from other rules, but only rules of strictly lower `priority`, so overriding can
  never go round in a circle;
- the colour comes from the matching colour-setting rules of the highest priority, the worst
  colour among them (the colour pack in force everywhere gives the default classes); the
  measures in force then hold it at their floor (`colour_floor.py`).

Where things live:
- `schema.py`: `Pack`, `Rule`, `MeasureSpec`, `ColourSpec`; `PackError`.
- `loading.py`: reading a pack file (`load_pack`, YAML without duplicate keys), `PACKS_DIR`.
- `validation.py`: `parse_pack`: header, source, rules, colours, overrides; the fingerprint.
- `measures.py`: the measure vocabulary (`MEASURE_PARAMS`, `MEASURE_KINDS`) and reading a measure.
- `checks.py`: checkers for single values (numbers, flags, words, texts in both languages, dates).
- `library.py`: `PackLibrary`, the packs in force for a division and day; `default_library`.
- `rule_set.py`: `RuleSet`, packs in force combined for evaluation; `rule_set`.
"""

from .library import PackLibrary, default_library, packs_in_force
from .loading import PACKS_DIR, _StrictLoader, load_pack
from .measures import MEASURE_KINDS, MEASURE_PARAMS
from .rule_set import RuleSet, rule_set
from .schema import ColourSpec, MeasureSpec, Pack, PackError, Rule
from .validation import parse_pack

__all__ = [
    "MEASURE_KINDS",
    "MEASURE_PARAMS",
    "PACKS_DIR",
    "ColourSpec",
    "MeasureSpec",
    "Pack",
    "PackError",
    "PackLibrary",
    "Rule",
    "RuleSet",
    "_StrictLoader",
    "default_library",
    "load_pack",
    "packs_in_force",
    "parse_pack",
    "rule_set",
]
