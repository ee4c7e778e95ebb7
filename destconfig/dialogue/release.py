"""The appliance releases whose dialogue the shell speaks, by name.

Names only, with no imports: the command line and the home's ``settings.toml``
check a name here without loading the dialogue (which brings the models). What
each release asks is data in :mod:`destconfig.dialogue.flows`.
"""

from __future__ import annotations

SEED = "seed"
"""The dialogue of the seed document's appliance, byte for byte (the default)."""
RELEASE_13 = "13"
"""AsyncOS 13.0's dialogue: DANE questions, a certificate question, New Profile second."""
NAMES = (SEED, RELEASE_13)
