// lib.js: finds libmaif.so and declares its C API for koffi.
//
// Everything above this module speaks JavaScript; everything in it mirrors
// include/maif.h one to one (the header is the manual: read it for what
// each call does and who owns what). Handles are opaque pointers, which
// koffi 3 represents as BigInt values.
//
// Where the library is looked for, in order:
//   1. the path in $MAIF_LIB;
//   2. build/release/libmaif.so of the source tree this package sits in;
//   3. the system's libmaif.so.0 (make install).
// The ASan build loads into node only with libasan preloaded (LD_PRELOAD):
// tests/cli/test_js.sh runs the suite against both builds.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';

export const ID_BYTES = 16;
export const HASH_BYTES = 32;
export const PUBKEY_BYTES = 32;
export const SEED_BYTES = 32;

export const E = {
  OK: 0, EINVAL: -1, ENOMEM: -2, EIO: -3, ENOTFOUND: -4, EFORMAT: -5, EVERSION: -6, EVERIFY: -7,
  ELOCKED: -8, ESTATE: -9, ELIMIT: -10, EKEY: -11, EJSON: -12, EEXIST: -13, EACCESS: -14, EUNSUPPORTED: -15,
};
export const ERROR_NAMES = Object.fromEntries(Object.entries(E).filter(([k]) => k !== 'OK').map(([k, v]) => [v, 'MAIF_' + k]));

export const OPT = {
  THREADS: 1, OVERWRITE: 2, DURABLE: 3, FORCE_RECOVER: 4, CONVERT_FORCE: 5, TRUSTED_KEYS: 6,
  CODEC: 7, CODEC_LEVEL: 8, LOCK_WAIT_MS: 9,
};
export const FORMAT_NATIVE = 1;
export const FORMAT_V21 = 21;
export const SEV = { 0: 'info', 1: 'warning', 2: 'error' };
export const CIPHERS = {
  'xchacha20-poly1305': 1, xchacha20: 1, 'chacha20-poly1305': 2, chacha20: 2, 'aes-256-gcm': 3, 'aes-gcm': 3,
};
export const KDFS = { argon2id: 1, pbkdf2: 2 };

function findLibrary() {
  const tried = [];
  if (process.env.MAIF_LIB) return { path: process.env.MAIF_LIB, tried };
  const here = path.dirname(fileURLToPath(import.meta.url));
  const tree = path.resolve(here, '..', '..', 'build', 'release', 'libmaif.so');
  tried.push(tree);
  if (fs.existsSync(tree)) return { path: tree, tried };
  tried.push('libmaif.so.0 (system)');
  return { path: 'libmaif.so.0', tried };
}

const found = findLibrary();
let handle;
try {
  handle = koffi.load(found.path);
} catch (e) {
  throw new Error(`maif: cannot load libmaif (tried ${found.tried.concat(process.env.MAIF_LIB ? [process.env.MAIF_LIB] : []).join(', ')}): ${e.message}. Run make, or set MAIF_LIB.`);
}
export const libraryPath = found.path;

export const BlockSpec = koffi.struct('maif_block_spec', {
  type: 'uint32_t',
  payload: 'const void *',
  payload_size: 'size_t',
  meta_json: 'const void *',
  meta_size: 'size_t',
  supersedes: 'const void *',
  id: 'const void *',
  timestamp_us: 'uint64_t',
});

export const Block = koffi.struct('maif_block', {
  index: 'uint64_t',
  offset: 'uint64_t',
  type: 'uint32_t',
  flags: 'uint32_t',
  timestamp_us: 'uint64_t',
  id: koffi.array('uint8_t', ID_BYTES),
  supersedes: koffi.array('uint8_t', ID_BYTES),
  has_supersedes: 'int',
  payload: 'void *',
  payload_size: 'size_t',
  meta: 'void *',
  meta_size: 'size_t',
  content_hash: koffi.array('uint8_t', HASH_BYTES),
  codec: 'uint8_t',
  cipher: 'uint8_t',
});

export const Info = koffi.struct('maif_info', {
  format: 'int',
  version_major: 'unsigned int',
  version_minor: 'unsigned int',
  file_size: 'uint64_t',
  torn_bytes: 'uint64_t',
  block_count: 'uint64_t',
  commit_count: 'uint64_t',
  created_us: 'uint64_t',
  modified_us: 'uint64_t',
  file_id: koffi.array('uint8_t', ID_BYTES),
  agent: 'const char *',
  signer: koffi.array('uint8_t', PUBKEY_BYTES),
  merkle_root: koffi.array('uint8_t', HASH_BYTES),
  converted_from: 'const char *',
});

export const IdentityTrust = koffi.struct('maif_identity_trust', {
  roots: 'const uint8_t *',
  roots_len: 'size_t',
  crls: 'const uint8_t *',
  crls_len: 'size_t',
  tsa_roots: 'const uint8_t *',
  tsa_roots_len: 'size_t',
});

export const KeystoreToken = koffi.struct('maif_keystore_token', {
  module: 'const char *',
  token: 'const char *',
  pin: 'const char *',
});

export const Finding = koffi.struct('maif_finding', {
  severity: 'int',
  code: 'const char *',
  section: 'const char *',
  block: 'int64_t',
  offset: 'int64_t',
  message: 'const char *',
});

const decls = [
  'unsigned int maif_version(void)',
  'const char *maif_version_string(void)',
  'const char *maif_strerror(int code)',
  'const char *maif_last_errmsg(void)',
  'int maif_type_parse(const char *name, _Out_ uint32_t *type)',
  'const char *maif_type_name(uint32_t type)',

  'int maif_key_generate(_Out_ void **out)',
  'int maif_key_save(void *key, const char *path)',
  'int maif_key_load(_Out_ void **out, const char *path)',
  'int maif_key_from_seed(_Out_ void **out, const uint8_t *seed)',
  'int maif_key_load_default(_Out_ void **out, _Out_ uint8_t *path_out, size_t path_cap)',
  'void maif_key_public(void *key, _Out_ uint8_t *pk)',
  'void maif_key_free(void *key)',
  'int maif_pubkey_load(const char *path, _Out_ uint8_t *pk)',

  'int maif_options_create(_Out_ void **out)',
  'void maif_options_free(void *o)',
  'int maif_options_set(void *o, int option, int64_t value)',
  'int maif_options_add_trusted_key(void *o, const uint8_t *pk)',
  'int maif_codec_parse(const char *s, _Out_ int *codec, _Out_ int *level)',

  'int maif_writer_create(_Out_ void **out, const char *path, void *key, const char *agent_id, void *opt)',
  'int maif_writer_open(_Out_ void **out, const char *path, void *key, void *opt)',
  'int maif_writer_add(void *w, const maif_block_spec *spec, _Out_ uint8_t *id_out)',
  'int maif_writer_commit(void *w)',
  'int maif_writer_rollback(void *w)',
  'uint64_t maif_writer_count(void *w)',
  'int maif_writer_close(void *w)',
  'int maif_writer_set_codec(void *w, int codec, int level)',
  'const char *maif_writer_errmsg(void *w)',

  'int maif_block_draft_new(_Out_ void **out, uint32_t type, const void *meta_json, size_t meta_size)',
  'int maif_block_draft_set_payload(void *d, const void *bytes, size_t n)',
  'int maif_block_draft_spec(void *d, _Out_ maif_block_spec *spec)',
  'void maif_block_draft_free(void *d)',
  'int maif_writer_add_draft(void *w, void *d, void *read, void *ctx, uint64_t limit, _Out_ uint8_t *id_out)',

  'int maif_keyring_create(_Out_ void **out)',
  'void maif_keyring_free(void *kr)',
  'int maif_keyring_add_recipient(void *kr, const uint8_t *pk)',
  'int maif_keyring_add_identity(void *kr, void *key)',
  'int maif_keyring_add_passphrase(void *kr, const void *pass, size_t len, int kdf)',
  'int maif_writer_encrypt(void *w, void *kr, int cipher)',
  'int maif_keyring_add_keystore(void *kr, void *ks)',
  'int maif_keystore_open_token(_Out_ void **out, const char *path, const char *master_path, const maif_keystore_token *tok, int create)',
  'void maif_keystore_close(void *ks)',
  'size_t maif_keystore_count(void *ks)',
  'int maif_keystore_rekey(void *ks)',
  'int maif_keystore_shred(void *ks, void *r, void *w, const uint64_t *blocks, size_t n, unsigned int flags, _Out_ uint64_t *erased)',
  'int maif_writer_encrypt_shreddable(void *w, void *ks, int cipher)',
  'int maif_reader_set_keyring(void *r, void *kr)',
  'int maif_reader_open(_Out_ void **out, const char *path)',
  'void maif_reader_close(void *r)',
  'int maif_reader_refresh(void *r, _Out_ int *changed)',
  'const char *maif_reader_errmsg(void *r)',
  'int maif_reader_format(void *r)',
  'uint64_t maif_reader_count(void *r)',
  'int maif_reader_block(void *r, uint64_t index, _Out_ maif_block *out)',
  'int maif_reader_block_decoded_size(void *r, uint64_t index, _Out_ size_t *size)',
  'int maif_reader_block_decode(void *r, uint64_t index, _Out_ uint8_t *dst, size_t cap, _Out_ size_t *written)',
  'int maif_reader_find(void *r, const uint8_t *id, _Out_ uint64_t *index_out)',
  'int maif_reader_history(void *r, const uint8_t *id, _Out_ uint64_t *indices, size_t cap, _Out_ size_t *n)',
  'int maif_reader_info(void *r, _Out_ maif_info *out)',

  'int maif_verify_file(const char *path, void *opt, _Out_ void **out)',
  'int maif_report_ok(void *rep)',
  'size_t maif_report_count(void *rep)',
  'const maif_finding *maif_report_finding(void *rep, size_t i)',
  'int maif_report_format(void *rep)',
  'uint64_t maif_report_blocks(void *rep)',
  'size_t maif_report_signer_count(void *rep)',
  'int maif_report_signer(void *rep, size_t i, _Out_ uint8_t *pk, _Out_ int *pinned)',
  'void maif_report_free(void *rep)',
  'int maif_verify_chains_crl(const char *path, const void *roots, size_t roots_len, const void *crls, size_t crls_len, _Out_ void **out)',
  'int maif_verify_identities(const char *path, const maif_identity_trust *trust, _Out_ void **out)',
  'int maif_timestamp_query(const char *path, _Out_ uint8_t *out, size_t cap, _Out_ size_t *len)',
  'int maif_writer_add_timestamp(void *w, const void *resp, size_t len, _Out_ uint64_t *commit_seq, _Out_ uint8_t *id_out)',

  'int maif_convert(const char *in_path, const char *out_path, int to_format, void *key, void *opt, _Out_ void **report)',
];

export const lib = {};
for (const d of decls) {
  const fn = handle.func(d);
  const name = d.match(/(maif_\w+)\(/)[1];
  lib[name] = fn;
}

export function lastErrmsg() {
  return lib.maif_last_errmsg() || '';
}

export function strerror(code) {
  return lib.maif_strerror(code) || '';
}

/** Copies n bytes at a C pointer (a BigInt) into a fresh Buffer. */
export function copyOut(ptr, n) {
  if (!ptr || n === 0) return Buffer.alloc(0);
  return Buffer.from(new Uint8Array(koffi.view(ptr, n)));
}
