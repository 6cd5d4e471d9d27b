"""Replay and inspection tools for a running Blue webhooks stack, local or on AWS (`python -m ops`).

The tools import the domain package (the layer) and act through it, as the functions do.
"""

import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[1] / "layers" / "bluehooks"
if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))
