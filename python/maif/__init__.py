"""maif — Python bindings of libmaif (ctypes, standard library only).

Three layers, one package:
  - the API users of the original Python MAIF know: MAIFEncoder,
    MAIFDecoder, create_maif, verify_maif, quick_create/verify/read,
    BlockType, BlockFlags (maif.core);
  - the simple API MAIF(agent_id) (maif.simple, also importable as
    maif_api) and the SDK create_client / create_artifact (maif.sdk, also
    importable as maif_sdk);
  - the library's own objects: Key, Keyring, Writer, Reader, verify,
    convert (maif.handles).
Errors raise MAIFError subclasses carrying the library's message.
"""
from .errors import (MAIFAccessError, MAIFError, MAIFExistsError, MAIFFormatError, MAIFIOError, MAIFLockedError,
                     MAIFNotFoundError, MAIFUnsupportedError, MAIFValueError, MAIFVerifyError)
from .handles import (BlockView, Finding, Key, Keyring, Keystore, Reader, Report, Writer, convert, timestamp_query,
                      verify, verify_chains, verify_identities, version)
from ._compat import (FORMAT_VERSION_MAJOR, FORMAT_VERSION_MINOR, MAGIC_FOOTER, MAGIC_HEADER, BlockFlags, BlockType,
                   FileFlags, MAIFBlock, MAIFDecoder, MAIFEncoder, MAIFHeader, MAIFParser, ProvenanceEntry, SecureBlock, SecureBlockHeader,
                   SecureBlockType, SecureMAIFReader, SecureMAIFWriter, create_maif, create_secure_maif,
                   quick_create, quick_read, quick_verify, verify_maif, verify_secure_maif)
from .simple import MAIF, load_maif
from .sdk import Artifact, MAIFClient, create_artifact, create_client

__version__ = version()

__all__ = [
    # the original's API
    "MAIFEncoder", "MAIFDecoder", "MAIFParser", "MAIFBlock", "MAIFHeader", "BlockType", "BlockFlags", "FileFlags",
    "SecureBlock", "SecureBlockHeader", "ProvenanceEntry", "create_maif", "verify_maif", "quick_create",
    "quick_verify", "quick_read", "SecureMAIFWriter", "SecureMAIFReader", "SecureBlockType", "create_secure_maif",
    "verify_secure_maif", "MAGIC_HEADER", "MAGIC_FOOTER", "FORMAT_VERSION_MAJOR", "FORMAT_VERSION_MINOR",
    # the simple API and the SDK
    "MAIF", "load_maif", "MAIFClient", "Artifact", "create_client", "create_artifact",
    # the library's objects and errors
    "Key", "Keyring", "Keystore", "Writer", "Reader", "BlockView", "Report", "Finding", "verify", "verify_chains",
    "verify_identities", "timestamp_query", "convert", "version",
    "MAIFError", "MAIFNotFoundError", "MAIFFormatError", "MAIFValueError", "MAIFVerifyError", "MAIFAccessError",
    "MAIFLockedError", "MAIFExistsError", "MAIFUnsupportedError", "MAIFIOError",
]
