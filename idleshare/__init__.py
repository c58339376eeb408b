"""Shared core of idleshare: errors, the wire format and the asset model.

Everything in this package except ``cli``, ``settings`` and ``demo`` uses only the standard
library, so the edge agent can import it on a Raspberry Pi without the server dependencies.
"""

__version__ = "0.1.0"
