"""maif.core — the original's module path for the encoder/decoder API
(`from maif.core import MAIFEncoder`); it lives in maif._compat."""
from .._compat import *  # noqa: F401,F403
from .._compat import __all__  # noqa: F401
