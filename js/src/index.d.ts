// Types of js/src/index.js (docs/JS.md is the manual).

export declare const libraryPath: string;
export declare function version(): string;
export declare function typeCode(t: string | number): number;
export declare function fourcc(code: number): string;
export declare function embeddingRows(payload: Buffer, metadata?: { dimensions?: number } | null): Float32Array[];

export declare class MaifError extends Error {
  constructor(code: number, message?: string);
  /** The MAIF_E* value of maif.h (negative). */
  code: number;
  /** Its name, e.g. "MAIF_ENOTFOUND". */
  codeName: string;
  /** convert() attaches the source's verification report. */
  report?: Report | null;
}
export declare class MaifNotFoundError extends MaifError {}
export declare class MaifFormatError extends MaifError {}
export declare class MaifValueError extends MaifError {}
export declare class MaifVerifyError extends MaifError {}
export declare class MaifAccessError extends MaifError {}
export declare class MaifLockedError extends MaifError {}
export declare class MaifExistsError extends MaifError {}
export declare class MaifUnsupportedError extends MaifError {}
export declare class MaifIOError extends MaifError {}
export declare class MaifStateError extends MaifError {}
export declare function error(code: number, message?: string): MaifError;
export declare function check(rc: number, errmsg?: () => string): number;

export type Bytes = string | Buffer | ArrayBufferView | ArrayBuffer;
export type Metadata = Record<string, unknown>;

export declare class Key {
  static generate(): Key;
  static load(path: string): Key;
  static fromSeed(seed: Bytes): Key;
  static default(): Key;
  /** Set by Key.default(): the key file. */
  path?: string;
  readonly closed: boolean;
  readonly publicKey: Buffer;
  save(path: string): void;
  free(): void;
  close(): number;
}

export declare class Keyring {
  constructor(options?: {
    recipients?: Array<Key | Bytes>;
    identities?: Array<Key | string>;
    passphrases?: Bytes[];
    kdf?: 'argon2id' | 'pbkdf2';
  });
  readonly closed: boolean;
  addRecipient(who: Key | Bytes): void;
  addIdentity(key: Key | string): void;
  addPassphrase(pass: Bytes, kdf?: 'argon2id' | 'pbkdf2'): void;
  addKeystore(keystore: Keystore | null): void;
  close(): number;
}

export declare class Keystore {
  static open(path: string, masterPath: string, options?: {
    create?: boolean;
    token?: { module?: string; token?: string; pin: string };
  }): Keystore;
  readonly closed: boolean;
  readonly count: number;
  path: string;
  rekey(): void;
  shred(writer: Writer, blocks: number[], options?: { punch?: boolean }): number;
  close(): number;
}

export interface AddOptions {
  /** The id of the block this one replaces (32 hex digits or 16 bytes). */
  supersedes?: string | Uint8Array;
  /** The block id to use (32 hex digits or 16 bytes); default random. */
  id?: string | Uint8Array;
  /** Microseconds since the epoch; default now. */
  timestampUs?: number;
}

export interface WriterOptions {
  key: Key;
  agentId?: string;
  overwrite?: boolean;
  durable?: boolean;
  compress?: string;
  lockWaitMs?: number;
}

export declare class Writer {
  static create(path: string, options: WriterOptions): Writer;
  static open(path: string, options: WriterOptions): Writer;
  readonly path: string;
  readonly key: Key;
  readonly closed: boolean;
  readonly count: number;
  add(type: string | number, payload: Bytes | null, metadata?: Metadata | string | null, options?: AddOptions): string;
  addText(text: string, metadata?: Metadata | null, options?: AddOptions): string;
  addBinary(bytes: Bytes, metadata?: Metadata | null, options?: AddOptions): string;
  addJson(value: unknown, metadata?: Metadata | null, options?: AddOptions): string;
  addEmbedding(rows: ArrayLike<number> | ArrayLike<ArrayLike<number>>, metadata?: Metadata | null, options?: AddOptions): string;
  encrypt(keyring: Keyring | null, algorithm?: 'xchacha20-poly1305' | 'chacha20-poly1305' | 'aes-256-gcm' | string): void;
  encryptShreddable(keystore: Keystore, algorithm?: 'xchacha20-poly1305' | 'chacha20-poly1305' | 'aes-256-gcm' | string): void;
  addTimestamp(response: Bytes): { id: string; commit: number };
  commit(): void;
  rollback(): void;
  close(): void;
}

export interface BlockHeader {
  index: number;
  offset: number;
  /** Four characters: "TEXT", "EMBD", "LGCK", ... */
  type: string;
  typeCode: number;
  flags: number;
  timestampUs: number;
  id: string;
  supersedes: string | null;
  payloadSize: number;
  meta: string | null;
  metadata: Metadata | null;
  contentHash: string;
  codec: number;
  cipher: number;
}

export interface Block extends BlockHeader {
  payload: Buffer;
  /** TEXT and JSON blocks. */
  text?: string;
  /** EMBD blocks: one Float32Array a row. */
  vectors?: Float32Array[];
}

export interface Info {
  format: 'native' | 'v21';
  version: string;
  fileSize: number;
  tornBytes: number;
  blockCount: number;
  commitCount: number;
  createdUs: number;
  modifiedUs: number;
  fileId: string;
  agent: string;
  signer: string;
  merkleRoot: string;
  convertedFrom: string;
}

export declare class Reader {
  constructor(path: string);
  static open(path: string, options?: { keyring?: Keyring | null }): Reader;
  readonly path: string;
  readonly closed: boolean;
  readonly format: 'native' | 'v21';
  readonly count: number;
  setKeyring(keyring: Keyring | null): void;
  header(i: number): BlockHeader;
  block(i: number): Block;
  read(i: number): Buffer;
  find(id: string | Uint8Array): number;
  history(id: string | Uint8Array): number[];
  info(): Info;
  refresh(): boolean;
  blocks(): IterableIterator<Block>;
  close(): void;
}

export interface Finding {
  severity: 'info' | 'warning' | 'error';
  code: string;
  section: string;
  block: number;
  offset: number;
  message: string;
}

export interface Report {
  ok: boolean;
  format: 'native' | 'v21' | 'unknown';
  blocks: number;
  findings: Finding[];
  signers: Array<{ publicKey: string; pinned: boolean }>;
  errors: string[];
}

export declare function verify(path: string, options?: { threads?: number; trustedKeys?: Array<Key | Bytes> }): Report;
export declare function verifyChains(path: string, roots: Buffer | string, options?: { crls?: Buffer | string }): Report;
export declare function verifyIdentities(path: string, trust: {
  roots?: Buffer | string;
  crls?: Buffer | string;
  tsaRoots?: Buffer | string;
}): Report;
export declare function timestampQuery(path: string): Buffer;
export declare function convert(src: string, dst: string, options: {
  key: Key;
  to?: 'native' | 'v21' | '2.1';
  force?: boolean;
  threads?: number;
  trustedKeys?: Array<Key | Bytes>;
}): Report;
