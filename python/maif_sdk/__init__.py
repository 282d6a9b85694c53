"""maif_sdk — the architecture's SDK module name, kept so `from maif_sdk
import create_client, create_artifact` runs unchanged. It lives in maif.sdk."""
from maif.sdk import Artifact, MAIFClient, create_artifact, create_client  # noqa: F401

__all__ = ["MAIFClient", "Artifact", "create_client", "create_artifact"]
