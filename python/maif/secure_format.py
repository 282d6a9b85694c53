"""maif.secure_format — the original's older module path; see maif._compat."""
from ._compat import *  # noqa: F401,F403
from ._compat import __all__  # noqa: F401
