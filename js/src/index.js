// index.js: the C library's objects as JavaScript classes.
//
// Key, Writer and Reader own one C handle each and free it in close() (a
// FinalizationRegistry frees what a caller forgot, as a last resort).
// Nothing borrowed from the library outlives the call that returned it:
// payloads, metadata and messages are copied into JavaScript values at
// once, so no value points into a reader's memory map after close().
// The concepts and names follow the Python package (docs/PYTHON.md,
// python/maif/handles.py); docs/JS.md is this package's manual.
import fs from 'node:fs';
import koffi from 'koffi';
import {
  lib, Block, Info, Finding, E, OPT, CIPHERS, KDFS, FORMAT_NATIVE, FORMAT_V21, SEV, ID_BYTES, PUBKEY_BYTES, SEED_BYTES, copyOut,
  libraryPath,
} from './lib.js';
import { check, error, MaifError } from './errors.js';

export * from './errors.js';
export { libraryPath };

const TYPE_EMBEDDING = 0x454d4244; // "EMBD"
const TYPE_TEXT = 0x54455854; // "TEXT"
const TYPE_JSON = 0x4a534f4e; // "JSON"

/** The linked library's version string ("0.1.0"). */
export function version() {
  return lib.maif_version_string();
}

const registry = new FinalizationRegistry(({ free, h }) => {
  try { free(h); } catch { /* nothing to report to */ }
});

class Handle {
  constructor(free) {
    this._h = null;
    this._free = free;
  }
  _own(h) {
    this._h = h;
    registry.register(this, { free: this._free, h }, this);
  }
  get closed() {
    return !this._h;
  }
  _live() {
    if (!this._h) throw error(E.ESTATE, `${this.constructor.name} is closed`);
    return this._h;
  }
  close() {
    if (this._h) {
      const h = this._h;
      this._h = null;
      registry.unregister(this);
      return this._free(h);
    }
    return 0;
  }
}

// ----------------------------------------------------------------- types

/** A four-character block type as its number: a number, "TEXT", or a name such as "text". */
export function typeCode(t) {
  if (typeof t === 'number') return t >>> 0;
  const out = [0];
  check(lib.maif_type_parse(String(t), out));
  return out[0] >>> 0;
}

/** The four characters of a type code ('?' for bytes that are not printable ASCII). */
export function fourcc(code) {
  let s = '';
  for (let sh = 24; sh >= 0; sh -= 8) {
    const c = (code >>> sh) & 0xff;
    s += c >= 32 && c < 127 ? String.fromCharCode(c) : '?';
  }
  return s;
}

function idBytes(id, what = 'a block id') {
  if (typeof id === 'string') {
    if (!/^[0-9a-fA-F]{32}$/.test(id)) throw error(E.EINVAL, `${what} is 32 hex digits, not ${JSON.stringify(id)}`);
    return Buffer.from(id, 'hex');
  }
  const b = Buffer.from(id);
  if (b.length !== ID_BYTES) throw error(E.EINVAL, `${what} is 16 bytes (32 hex digits)`);
  return b;
}

function metaBytes(metadata) {
  if (metadata === undefined || metadata === null) return null;
  if (typeof metadata === 'string') return Buffer.from(metadata, 'utf8');
  if (Buffer.isBuffer(metadata)) return metadata;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw error(E.EINVAL, 'metadata must be an object (a JSON object)');
  }
  return Buffer.from(JSON.stringify(metadata), 'utf8');
}

function toBuffer(payload) {
  if (payload === undefined || payload === null) return Buffer.alloc(0);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (Buffer.isBuffer(payload)) return payload;
  if (ArrayBuffer.isView(payload)) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (payload instanceof ArrayBuffer) return Buffer.from(payload);
  throw error(E.EINVAL, 'payload must be a string, Buffer, TypedArray or ArrayBuffer');
}

// ----------------------------------------------------------------- keys

/** An Ed25519 signing key (secret half in locked, wiped memory). */
export class Key extends Handle {
  constructor() {
    super(lib.maif_key_free);
  }
  /** A fresh key pair. */
  static generate() {
    const k = new Key(), out = [null];
    check(lib.maif_key_generate(out));
    k._own(out[0]);
    return k;
  }
  /** A secret key file written by save() or `maif keygen`. */
  static load(path) {
    const k = new Key(), out = [null];
    check(lib.maif_key_load(out, String(path)));
    k._own(out[0]);
    return k;
  }
  /** The key derived from a 32-byte Ed25519 seed (RFC 8032 private key bytes). */
  static fromSeed(seed) {
    const s = toBuffer(seed);
    if (s.length !== SEED_BYTES) throw error(E.EINVAL, `an Ed25519 seed is ${SEED_BYTES} bytes, not ${s.length}`);
    const k = new Key(), out = [null];
    check(lib.maif_key_from_seed(out, s));
    k._own(out[0]);
    return k;
  }
  /** $MAIF_HOME/default.key (~/.maif/default.key), the CLI's key, made on first use; .path names it. */
  static default() {
    const k = new Key(), out = [null], buf = Buffer.alloc(4096);
    check(lib.maif_key_load_default(out, buf, buf.length));
    k._own(out[0]);
    k.path = buf.subarray(0, buf.indexOf(0)).toString('utf8');
    return k;
  }
  /** Writes the secret key to path (0600) and the public key to path + ".pub". */
  save(path) {
    check(lib.maif_key_save(this._live(), String(path)));
  }
  /** The 32 public-key bytes. */
  get publicKey() {
    const pk = Buffer.alloc(PUBKEY_BYTES);
    lib.maif_key_public(this._live(), pk);
    return pk;
  }
  /** Wipes and frees the key. */
  free() {
    this.close();
  }
}

function publicKeyBytes(who) {
  if (who instanceof Key) return who.publicKey;
  if (typeof who === 'string' && /^[0-9a-fA-F]{64}$/.test(who)) return Buffer.from(who, 'hex');
  if (typeof who !== 'string') {
    const b = toBuffer(who);
    if (b.length === PUBKEY_BYTES) return b;
    throw error(E.EINVAL, 'a public key is 32 bytes');
  }
  const pk = Buffer.alloc(PUBKEY_BYTES);
  check(lib.maif_pubkey_load(who, pk));
  return pk;
}

/**
 * Recipients to encrypt for, identities and passphrases to decrypt with
 * (maif_keyring_*). Secrets live in the library's locked memory. A keyring
 * must outlive the writers and readers it is given to (they keep a
 * reference to it).
 */
export class Keyring extends Handle {
  constructor({ recipients = [], identities = [], passphrases = [], kdf = 'argon2id' } = {}) {
    super(lib.maif_keyring_free);
    const out = [null];
    check(lib.maif_keyring_create(out));
    this._own(out[0]);
    for (const r of recipients) this.addRecipient(r);
    for (const i of identities) this.addIdentity(i);
    for (const p of passphrases) this.addPassphrase(p, kdf);
  }
  /** Encrypt for this signing public key (a Key, 32 bytes, 64 hex digits or a .pub path). */
  addRecipient(who) {
    check(lib.maif_keyring_add_recipient(this._live(), publicKeyBytes(who)));
  }
  /** Decrypt with this secret key (a Key or a key file path). */
  addIdentity(key) {
    const k = key instanceof Key ? key : Key.load(key);
    check(lib.maif_keyring_add_identity(this._live(), k._live()));
  }
  /** A passphrase used both ways; kdf "argon2id" (default) or "pbkdf2" for new key wraps. */
  addPassphrase(pass, kdf = 'argon2id') {
    const b = toBuffer(pass);
    const id = KDFS[kdf];
    if (!id) throw error(E.EINVAL, `unknown kdf ${JSON.stringify(kdf)}; choose argon2id or pbkdf2`);
    check(lib.maif_keyring_add_passphrase(this._live(), b, b.length, id));
  }
  /** Lets readers given this keyring open blocks whose keys keystore holds. */
  addKeystore(keystore) {
    check(lib.maif_keyring_add_keystore(this._live(), keystore ? keystore._live() : null));
    this.keystore = keystore;
  }
}

/**
 * The keystore of shreddable blocks (crypto-shredding, FORMAT.md §5.10):
 * data keys kept outside the artifact, sealed under a master key in
 * masterPath. Keystore.open(path, masterPath, { create, token }) where
 * token = { module, token, pin } keeps the master key on a PKCS#11 token
 * (opening one, { pin } is enough: the master file names module and
 * token). count, rekey(), shred(writer, [index...], { punch }).
 */
export class Keystore extends Handle {
  constructor() {
    super(lib.maif_keystore_close);
  }
  static open(path, masterPath, options = {}) {
    const ks = new Keystore(), out = [null];
    const t = options.token;
    const tok = t ? { module: t.module ?? null, token: t.token ?? null, pin: t.pin ?? null } : null;
    check(lib.maif_keystore_open_token(out, String(path), String(masterPath), tok, options.create ? 1 : 0));
    ks._own(out[0]);
    ks.path = String(path);
    return ks;
  }
  /** Data keys held. */
  get count() {
    return Number(lib.maif_keystore_count(this._live()));
  }
  /** Replaces the master key (the keystore is rewritten under a new one). */
  rekey() {
    check(lib.maif_keystore_rekey(this._live()));
  }
  /**
   * Erases blocks (indices of writer's artifact, sealed under keys of this
   * keystore, with every block sealed under the same keys): commits a
   * signed erasure record, destroys the keys, replaces the master key;
   * options.punch also overwrites their ciphertext. Returns the number erased.
   */
  shred(writer, blocks, options = {}) {
    const idx = blocks.map((b) => BigInt(b));
    const erased = [0n];
    const r = new Reader(writer.path);
    try {
      check(lib.maif_keystore_shred(this._live(), r._live(), writer._live(), idx, idx.length, options.punch ? 1 : 0,
        erased), () => writer._err());
    } finally {
      r.close();
    }
    return Number(erased[0]);
  }
}

class Options extends Handle {
  constructor(settings = {}, trustedKeys = []) {
    super(lib.maif_options_free);
    const out = [null];
    check(lib.maif_options_create(out));
    this._own(out[0]);
    try {
      for (const [id, v] of Object.entries(settings)) {
        if (v === undefined) continue;
        check(lib.maif_options_set(this._h, Number(id), Number(v)));
      }
      for (const k of trustedKeys) check(lib.maif_options_add_trusted_key(this._h, publicKeyBytes(k)));
    } catch (e) {
      this.close();
      throw e;
    }
  }
}

function withOptions(settings, trustedKeys, fn) {
  const o = new Options(settings, trustedKeys);
  try {
    return fn(o._h);
  } finally {
    o.close();
  }
}

function parseCodec(spec) {
  const c = [0], l = [0];
  check(lib.maif_codec_parse(String(spec), c, l));
  return [c[0], l[0]];
}

// ---------------------------------------------------------------- writer

/**
 * A native artifact being written (maif_writer_create / maif_writer_open).
 *
 *   const w = Writer.create('a.maif', { key, agentId: 'bot' });
 *   const id = w.addText('hello', { source: 'chat' });
 *   w.commit(); w.close();
 *
 * Blocks are invisible to readers until commit(); close() rolls back
 * anything uncommitted. The key is borrowed: it must outlive the writer
 * (the writer keeps a reference to it).
 */
export class Writer extends Handle {
  constructor() {
    super(lib.maif_writer_close);
  }

  static _settings(o) {
    const s = {
      [OPT.OVERWRITE]: o.overwrite ? 1 : 0,
      [OPT.DURABLE]: o.durable ? 1 : 0,
      [OPT.LOCK_WAIT_MS]: o.lockWaitMs ?? 0,
    };
    if (o.compress) {
      const [codec, level] = parseCodec(o.compress);
      s[OPT.CODEC] = codec;
      s[OPT.CODEC_LEVEL] = level;
    }
    return s;
  }

  /** Creates a new artifact at path. options: key (required), agentId, overwrite, durable, compress. */
  static create(path, options = {}) {
    const key = options.key;
    if (!(key instanceof Key)) throw error(E.EINVAL, 'Writer.create needs options.key (a maif Key)');
    const w = new Writer(), out = [null];
    withOptions(Writer._settings(options), [], (opt) =>
      check(lib.maif_writer_create(out, String(path), key._live(), options.agentId ?? null, opt)));
    w._own(out[0]);
    w.key = key;
    w.path = String(path);
    return w;
  }

  /** Opens an existing native artifact for appending. options: key (required), durable, lockWaitMs, compress. */
  static open(path, options = {}) {
    const key = options.key;
    if (!(key instanceof Key)) throw error(E.EINVAL, 'Writer.open needs options.key (a maif Key)');
    const w = new Writer(), out = [null];
    withOptions(Writer._settings(options), [], (opt) => check(lib.maif_writer_open(out, String(path), key._live(), opt)));
    w._own(out[0]);
    w.key = key;
    w.path = String(path);
    return w;
  }

  _err() {
    return this._h ? lib.maif_writer_errmsg(this._h) : '';
  }

  /**
   * Appends a block to the current batch; returns its id (32 hex digits).
   * type: a name ("text"), a four-character code ("LGCK") or a number;
   * payload: string (UTF-8), Buffer, TypedArray or ArrayBuffer;
   * options: supersedes (an id), id (to choose the block id), timestampUs.
   */
  add(type, payload, metadata = null, options = {}) {
    const h = this._live();
    const p = toBuffer(payload);
    const m = metaBytes(metadata);
    const spec = {
      type: typeCode(type),
      payload: p.length ? p : null,
      payload_size: p.length,
      meta_json: m,
      meta_size: m ? m.length : 0,
      supersedes: options.supersedes ? idBytes(options.supersedes, 'supersedes') : null,
      id: options.id ? idBytes(options.id) : null,
      timestamp_us: options.timestampUs ?? 0,
    };
    const out = Buffer.alloc(ID_BYTES);
    check(lib.maif_writer_add(h, spec, out), () => this._err());
    return out.toString('hex');
  }

  /** A TEXT block (the library checks the text is valid UTF-8). */
  addText(text, metadata = null, options = {}) {
    if (typeof text !== 'string') throw error(E.EINVAL, 'addText takes a string');
    return this.add(TYPE_TEXT, text, metadata, options);
  }

  /** A BINA block of raw bytes. */
  addBinary(bytes, metadata = null, options = {}) {
    return this.add('binary', bytes, metadata, options);
  }

  /** A JSON block holding value as JSON text. */
  addJson(value, metadata = null, options = {}) {
    return this.add(TYPE_JSON, JSON.stringify(value), metadata, options);
  }

  /**
   * An EMBD block from one vector or rows of numbers (arrays or
   * Float32Arrays). The library checks that every value is a finite float32
   * and merges {"count","dimensions","dtype"} into the metadata.
   */
  addEmbedding(rows, metadata = null, options = {}) {
    const h = this._live();
    let rs = Array.from(rows ?? []);
    if (rs.length === 0) throw error(E.EINVAL, 'embedding: at least one value is needed');
    if (typeof rs[0] === 'number') rs = [rs];
    const text = Buffer.from(JSON.stringify(rs.map((r) => Array.from(r, Number))), 'utf8');
    const m = metaBytes(metadata);
    const d = [null];
    check(lib.maif_block_draft_new(d, TYPE_EMBEDDING, m, m ? m.length : 0));
    try {
      check(lib.maif_block_draft_set_payload(d[0], text, text.length));
      const out = Buffer.alloc(ID_BYTES);
      if (options.id || options.timestampUs || options.supersedes) {
        // The draft's spec is copied out with its canonical metadata and
        // float32 payload, then given the caller's id and time.
        const spec = {};
        check(lib.maif_block_draft_spec(d[0], spec));
        const payload = copyOut(spec.payload, Number(spec.payload_size));
        const meta = copyOut(spec.meta_json, Number(spec.meta_size));
        return this.add(TYPE_EMBEDDING, payload, meta.length ? meta.toString('utf8') : null, options);
      }
      check(lib.maif_writer_add_draft(h, d[0], null, null, 0, out), () => this._err());
      return out.toString('hex');
    } finally {
      lib.maif_block_draft_free(d[0]);
    }
  }

  /**
   * Seals the blocks added from now on (payloads only: metadata stays
   * public) for keyring's recipients and passphrases with algorithm
   * ("xchacha20-poly1305" default, "chacha20-poly1305", "aes-256-gcm");
   * appends the key-wrap block at once. Null turns encryption off.
   */
  /**
   * Seals the blocks added from now on under a fresh data key kept in
   * keystore only (never in the artifact): Keystore.shred erases them.
   */
  encryptShreddable(keystore, algorithm = 'xchacha20-poly1305') {
    const cipher = CIPHERS[String(algorithm).toLowerCase()];
    if (cipher === undefined) throw error(E.EINVAL, `unknown encryption algorithm ${JSON.stringify(algorithm)}`);
    check(lib.maif_writer_encrypt_shreddable(this._live(), keystore._live(), cipher), () => this._err());
    this.keystore = keystore;
  }

  /**
   * Stores a time-stamp authority's answer (a DER response or token) to a
   * request from timestampQuery(); returns { id, commit } (the stamped commit).
   */
  addTimestamp(response) {
    const b = toBuffer(response), seq = [0n], id = Buffer.alloc(ID_BYTES);
    check(lib.maif_writer_add_timestamp(this._live(), b, b.length, seq, id), () => this._err());
    return { id: id.toString('hex'), commit: Number(seq[0]) };
  }

  encrypt(keyring, algorithm = 'xchacha20-poly1305') {
    const cipher = keyring ? CIPHERS[String(algorithm).toLowerCase()] : 0;
    if (cipher === undefined) throw error(E.EINVAL, `unknown encryption algorithm ${JSON.stringify(algorithm)}`);
    check(lib.maif_writer_encrypt(this._live(), keyring ? keyring._live() : null, cipher), () => this._err());
    this.keyring = keyring;
  }

  /** Seals the current batch with a signed commit record. */
  commit() {
    check(lib.maif_writer_commit(this._live()), () => this._err());
  }

  /** Discards every block added since the last commit. */
  rollback() {
    check(lib.maif_writer_rollback(this._live()), () => this._err());
  }

  /** Data blocks committed plus pending. */
  get count() {
    return Number(lib.maif_writer_count(this._live()));
  }

  /** Rolls back anything uncommitted, releases the lock and frees; throws the first error met. */
  close() {
    const rc = super.close();
    if (rc < 0) throw error(rc);
  }
}

// ---------------------------------------------------------------- reader

function hex(arr) {
  return Buffer.from(arr).toString('hex');
}

/**
 * An artifact of either format opened for reading (maif_reader_open).
 * r.count, r.block(i), r.header(i), r.read(i), r.find(id), r.history(id),
 * r.info(), r.refresh(), r.blocks() (an iterator).
 */
export class Reader extends Handle {
  constructor(path) {
    super(lib.maif_reader_close);
    const out = [null];
    check(lib.maif_reader_open(out, String(path)));
    this._own(out[0]);
    this.path = String(path);
  }

  static open(path, options = {}) {
    const r = new Reader(path);
    if (options.keyring) r.setKeyring(options.keyring);
    return r;
  }

  /** Lets read() and block() open encrypted payloads with keyring (null: no keys). */
  setKeyring(keyring) {
    check(lib.maif_reader_set_keyring(this._live(), keyring ? keyring._live() : null), () => this._err());
    this.keyring = keyring;
  }

  _err() {
    return this._h ? lib.maif_reader_errmsg(this._h) : '';
  }

  /** "native" or "v21". */
  get format() {
    return lib.maif_reader_format(this._live()) === FORMAT_V21 ? 'v21' : 'native';
  }

  /** Number of data blocks (committed ones only). */
  get count() {
    return Number(lib.maif_reader_count(this._live()));
  }

  /** Block i without its payload: index, type, id, metadata, sizes, hashes. */
  header(i) {
    const b = {};
    check(lib.maif_reader_block(this._live(), i, b), () => this._err());
    const meta = b.meta ? copyOut(b.meta, Number(b.meta_size)).toString('utf8') : null;
    return {
      index: Number(b.index),
      offset: Number(b.offset),
      type: fourcc(b.type),
      typeCode: b.type >>> 0,
      flags: b.flags,
      timestampUs: Number(b.timestamp_us),
      id: hex(b.id),
      supersedes: b.has_supersedes ? hex(b.supersedes) : null,
      payloadSize: Number(b.payload_size),
      meta,
      metadata: meta ? JSON.parse(meta) : null,
      contentHash: hex(b.content_hash),
      codec: b.codec,
      cipher: b.cipher,
    };
  }

  /** Block i with its payload decoded (Buffer; .text for TEXT/JSON, .vectors for EMBD). */
  block(i) {
    const b = this.header(i);
    b.payload = this.read(i);
    if (b.type === 'TEXT' || b.type === 'JSON') b.text = b.payload.toString('utf8');
    if (b.type === 'EMBD') b.vectors = embeddingRows(b.payload, b.metadata);
    return b;
  }

  /** Block i's payload, decompressed and decrypted, as a Buffer. */
  read(i) {
    const h = this._live();
    const n = [0];
    check(lib.maif_reader_block_decoded_size(h, i, n), () => this._err());
    const size = Number(n[0]);
    const buf = Buffer.alloc(size);
    const w = [0];
    check(lib.maif_reader_block_decode(h, i, size ? buf : null, size, w), () => this._err());
    return buf.subarray(0, Number(w[0]));
  }

  /** The index of the block with this id (32 hex digits or 16 bytes). */
  find(id) {
    const out = [0];
    check(lib.maif_reader_find(this._live(), idBytes(id), out), () => this._err());
    return Number(out[0]);
  }

  /** Indices of every version of the item id belongs to, oldest first. */
  history(id) {
    const h = this._live(), bid = idBytes(id), n = [0];
    check(lib.maif_reader_history(h, bid, null, 0, n), () => this._err());
    const arr = new BigUint64Array(Math.max(Number(n[0]), 1));
    check(lib.maif_reader_history(h, bid, arr, Number(n[0]), n), () => this._err());
    return Array.from(arr.subarray(0, Number(n[0])), Number);
  }

  /** Artifact-level facts. */
  info() {
    const inf = {};
    check(lib.maif_reader_info(this._live(), inf), () => this._err());
    return {
      format: inf.format === FORMAT_V21 ? 'v21' : 'native',
      version: `${inf.version_major}.${inf.version_minor}`,
      fileSize: Number(inf.file_size),
      tornBytes: Number(inf.torn_bytes),
      blockCount: Number(inf.block_count),
      commitCount: Number(inf.commit_count),
      createdUs: Number(inf.created_us),
      modifiedUs: Number(inf.modified_us),
      fileId: hex(inf.file_id),
      agent: inf.agent || '',
      signer: hex(inf.signer),
      merkleRoot: hex(inf.merkle_root),
      convertedFrom: inf.converted_from || '',
    };
  }

  /** Switches to the file's latest commit; true if it changed. */
  refresh() {
    const c = [0];
    check(lib.maif_reader_refresh(this._live(), c), () => this._err());
    return c[0] !== 0;
  }

  /** Every block, payloads decoded. */
  *blocks() {
    const n = this.count;
    for (let i = 0; i < n; i++) yield this.block(i);
  }

  close() {
    super.close();
  }
}

/** Rows of an EMBD payload (float32 little-endian) as Float32Arrays. */
export function embeddingRows(payload, metadata) {
  const n = Math.floor(payload.length / 4);
  const all = new Float32Array(n);
  for (let i = 0; i < n; i++) all[i] = payload.readFloatLE(i * 4);
  const dim = Number(metadata?.dimensions) || n;
  const rows = [];
  for (let off = 0; off + dim <= n && dim > 0; off += dim) rows.push(all.slice(off, off + dim));
  return rows;
}

// -------------------------------------------------------------- verifier

function readReport(h) {
  try {
    const fmt = lib.maif_report_format(h);
    const rep = {
      ok: lib.maif_report_ok(h) !== 0,
      format: fmt === FORMAT_V21 ? 'v21' : fmt === FORMAT_NATIVE ? 'native' : 'unknown',
      blocks: Number(lib.maif_report_blocks(h)),
      findings: [],
      signers: [],
    };
    const n = Number(lib.maif_report_count(h));
    for (let i = 0; i < n; i++) {
      const f = koffi.decode(lib.maif_report_finding(h, i), Finding);
      rep.findings.push({
        severity: SEV[f.severity] ?? 'error', code: f.code || '', section: f.section || '',
        block: Number(f.block), offset: Number(f.offset), message: f.message || '',
      });
    }
    const ns = Number(lib.maif_report_signer_count(h));
    for (let i = 0; i < ns; i++) {
      const pk = Buffer.alloc(PUBKEY_BYTES), pinned = [0];
      check(lib.maif_report_signer(h, i, pk, pinned));
      rep.signers.push({ publicKey: pk.toString('hex'), pinned: pinned[0] !== 0 });
    }
    rep.errors = rep.findings.filter((f) => f.severity === 'error').map((f) => f.message);
    return rep;
  } finally {
    lib.maif_report_free(h);
  }
}

/**
 * Verifies every byte of an artifact (either format): content hashes, the
 * chain, Merkle roots and signatures. Returns a report {ok, format, blocks,
 * findings: [{severity, code, section, block, offset, message}], signers,
 * errors}. options: threads, trustedKeys (Keys, 32-byte keys, hex or .pub paths).
 */
export function verify(path, options = {}) {
  const out = [null];
  withOptions({ [OPT.THREADS]: options.threads ?? 0 }, options.trustedKeys ?? [], (opt) =>
    check(lib.maif_verify_file(String(path), opt, out)));
  return readReport(out[0]);
}

const pemOrPath = (x) => (x === undefined || x === null ? null : Buffer.isBuffer(x) ? x : fs.readFileSync(String(x)));

/**
 * Checks signer identities and trusted timestamps (docs/IDENTITIES.md).
 * trust: roots (CA roots: a Buffer or a path) for every commit's signer's
 * certificate chain at the commit's time, crls for their revocation,
 * tsaRoots for every RFC 3161 token (Writer.addTimestamp). Returns a
 * report of identity-* and timestamp* findings (run verify() for integrity).
 */
export function verifyIdentities(path, trust = {}) {
  const r = pemOrPath(trust.roots), c = pemOrPath(trust.crls), t = pemOrPath(trust.tsaRoots);
  const out = [null];
  check(lib.maif_verify_identities(String(path), {
    roots: r, roots_len: r ? r.length : 0, crls: c, crls_len: c ? c.length : 0,
    tsa_roots: t, tsa_roots_len: t ? t.length : 0,
  }, out));
  return readReport(out[0]);
}

/** verifyIdentities(path, { roots, crls: options.crls }): certificate chains and CRLs. */
export function verifyChains(path, roots, options = {}) {
  return verifyIdentities(path, { roots, crls: options.crls });
}

/**
 * The DER RFC 3161 request for the last commit of the artifact at path:
 * send it to a time-stamp authority, then Writer.addTimestamp its answer.
 */
export function timestampQuery(path) {
  const buf = Buffer.alloc(4096), n = [0];
  check(lib.maif_timestamp_query(String(path), buf, buf.length, n));
  return buf.subarray(0, Number(n[0]));
}

/**
 * Converts src to format to ("native" or "v21") at dst, signed by
 * options.key. The source is verified first; returns its report. Throws
 * MaifVerifyError if it does not verify, unless options.force.
 */
export function convert(src, dst, options = {}) {
  const key = options.key;
  if (!(key instanceof Key)) throw error(E.EINVAL, 'convert needs options.key (a maif Key)');
  const to = options.to ?? 'native';
  const fmt = to === 'native' ? FORMAT_NATIVE : to === 'v21' || to === '2.1' ? FORMAT_V21 : null;
  if (fmt === null) throw error(E.EINVAL, `unknown format ${JSON.stringify(to)}; choose 'native' or 'v21'`);
  const out = [null];
  let rc = 0, msg = '';
  withOptions({ [OPT.THREADS]: options.threads ?? 0, [OPT.CONVERT_FORCE]: options.force ? 1 : 0 },
    options.trustedKeys ?? [], (opt) => {
      rc = lib.maif_convert(String(src), String(dst), fmt, key._live(), opt, out);
      if (rc < 0) msg = lib.maif_last_errmsg();
    });
  const rep = out[0] ? readReport(out[0]) : null;
  if (rc < 0) {
    const e = error(rc, msg);
    e.report = rep;
    throw e;
  }
  return rep;
}
