"""maif_api — the original's simple-API module name, kept so `from maif_api
import MAIF` runs unchanged. Everything lives in maif.simple."""
from maif.simple import MAIF, create_maif, load_maif, quick_multimodal_maif, quick_text_maif  # noqa: F401

__all__ = ["MAIF", "create_maif", "load_maif", "quick_text_maif", "quick_multimodal_maif"]
