// langgraph.js: MaifSaver, a LangGraph checkpointer whose store is one
// signed maif artifact.
//
// Every put, putWrites and deleteThread appends blocks and seals them with
// one signed commit, so an agent's whole run history (each checkpoint, each
// channel value, each pending write, each deletion) is hash-chained and
// verifiable with `maif verify`. The artifact is append-only, so the saver
// keeps an in-memory index of where things are (built from the block
// metadata when the file is opened: headers only, no payloads) and reads
// payloads back through a Reader. Layout (docs/JS.md):
//
//   LGCK  a checkpoint without its channel values; metadata: thread_id,
//         checkpoint_ns, checkpoint_id, parent_checkpoint_id, serde, and the
//         checkpoint metadata itself ("metadata", as JSON)
//   LGCV  one channel value at one version (stored only when it changed, as
//         the Postgres saver stores blobs); metadata: thread_id,
//         checkpoint_ns, checkpoint_id, channel, version, serde
//   LGWR  one pending write; metadata: thread_id, checkpoint_ns,
//         checkpoint_id, task_id, task_path, idx, channel, serde
//   LGDL  a thread tombstone (deleteThread): metadata thread_id. Blocks of
//         the thread before it are hidden from every read; their bytes stay
//         in the file (an append-only, signed log cannot erase them).
import fs from 'node:fs';
import {
  BaseCheckpointSaver, TASKS, WRITES_IDX_MAP, compareWritesSortKeys, copyCheckpoint, getCheckpointId,
  maxChannelVersion, writesSortKey,
} from '@langchain/langgraph-checkpoint';
import { Key, Keyring, Reader, Writer } from './index.js';

export const BLOCK_CHECKPOINT = 'LGCK';
export const BLOCK_CHANNEL_VALUE = 'LGCV';
export const BLOCK_WRITE = 'LGWR';
export const BLOCK_TOMBSTONE = 'LGDL';

const enc = new TextEncoder();
const dec = new TextDecoder();

function assertKey(field, value, allowEmpty = false) {
  if (typeof value !== 'string') {
    throw new Error(`MaifSaver: configurable "${field}" must be a string (got ${value === null ? 'null' : typeof value})`);
  }
  if (!allowEmpty && value === '') throw new Error(`MaifSaver: configurable "${field}" must not be empty`);
}

/** Serialised [type, bytes] as block metadata (JSON inline when it is JSON) and payload. */
function inlineJson(type, bytes) {
  if (type === 'json') {
    try {
      return { json: JSON.parse(dec.decode(bytes)) };
    } catch { /* fall through */ }
  }
  return { b64: Buffer.from(bytes).toString('base64'), type };
}

class ThreadState {
  constructor() {
    this.checkpoints = new Map(); // ns -> Map(checkpoint_id -> {index, parent, metadata})
    this.blobs = new Map(); // `${ns}\0${channel}\0${JSON version}` -> {index, serde} (first wins)
    this.writes = new Map(); // `${ns}\0${checkpoint_id}` -> Map(`${task_id},${idx}` -> {index, serde, taskId, channel, taskPath, idx})
  }
}

/**
 * A LangGraph checkpointer storing checkpoints and pending writes as
 * signed blocks of the maif artifact at path (created if missing).
 *
 *   const saver = new MaifSaver('run.maif', { key: Key.load('agent.key') });
 *   const graph = workflow.compile({ checkpointer: saver });
 *
 * options: key (a maif Key, or a key file path; default: a fresh key,
 * readable as saver.key), agentId, durable (fsync every commit), serde,
 * encrypt (true: seal every payload for the saver's own key; or a maif
 * Keyring), cipher, keyring (to read payloads sealed by earlier sessions
 * without encrypting new ones).
 * The saver holds the artifact's writer lock until close().
 */
export class MaifSaver extends BaseCheckpointSaver {
  constructor(path, options = {}) {
    super(options.serde);
    this.path = String(path);
    if (options.key instanceof Key) this.key = options.key;
    else if (typeof options.key === 'string') this.key = Key.load(options.key);
    else this.key = Key.generate();
    const wopts = { key: this.key, agentId: options.agentId, durable: !!options.durable, lockWaitMs: options.lockWaitMs };
    if (options.encrypt) {
      this.keyring = options.encrypt instanceof Keyring
        ? options.encrypt
        : new Keyring({ recipients: [this.key], identities: [this.key] });
    } else {
      this.keyring = options.keyring ?? null; // reads only: opens what earlier sessions sealed
    }
    this.threads = new Map();
    this._reader = null;
    this._stale = false;
    this._refreshes = 0;
    if (fs.existsSync(this.path)) {
      this._writer = Writer.open(this.path, wopts);
      this._scan();
    } else {
      this._writer = Writer.create(this.path, wopts);
    }
    if (options.encrypt) {
      // Payloads (checkpoints, values, writes) sealed for the keyring;
      // the metadata that indexes them stays public, as it must to be
      // indexed without the key.
      this._writer.encrypt(this.keyring, options.cipher ?? 'xchacha20-poly1305');
    }
  }

  // ---------------------------------------------------------- the index

  _thread(tid, create) {
    let t = this.threads.get(tid);
    if (!t && create) this.threads.set(tid, (t = new ThreadState()));
    return t;
  }

  _index(h) {
    // Blocks whose metadata does not have the layout's fields (another
    // program's, or damaged) are not LangGraph state: skipped, not trusted.
    const m = h.metadata;
    if (!m || typeof m.thread_id !== 'string') return;
    const str = (...keys) => keys.every((k) => typeof m[k] === 'string');
    if (h.type !== BLOCK_TOMBSTONE && !str('checkpoint_ns', 'checkpoint_id')) return;
    if ((h.type === BLOCK_CHANNEL_VALUE || h.type === BLOCK_WRITE) && !str('channel', 'serde')) return;
    if (h.type === BLOCK_CHECKPOINT && !str('serde')) return;
    if (h.type === BLOCK_WRITE && (!str('task_id') || !Number.isInteger(m.idx))) return;
    switch (h.type) {
      case BLOCK_CHECKPOINT: {
        const t = this._thread(m.thread_id, true);
        let ns = t.checkpoints.get(m.checkpoint_ns);
        if (!ns) t.checkpoints.set(m.checkpoint_ns, (ns = new Map()));
        ns.set(m.checkpoint_id, { index: h.index, parent: m.parent_checkpoint_id ?? undefined, meta: m });
        break;
      }
      case BLOCK_CHANNEL_VALUE: {
        const t = this._thread(m.thread_id, true);
        const k = `${m.checkpoint_ns}\0${m.channel}\0${JSON.stringify(m.version)}`;
        if (!t.blobs.has(k)) t.blobs.set(k, { index: h.index, serde: m.serde });
        break;
      }
      case BLOCK_WRITE: {
        const t = this._thread(m.thread_id, true);
        const ok = `${m.checkpoint_ns}\0${m.checkpoint_id}`;
        let w = t.writes.get(ok);
        if (!w) t.writes.set(ok, (w = new Map()));
        w.set(`${m.task_id},${m.idx}`, { index: h.index, serde: m.serde, taskId: m.task_id, channel: m.channel, taskPath: m.task_path ?? '', idx: m.idx });
        break;
      }
      case BLOCK_TOMBSTONE:
        this.threads.delete(m.thread_id);
        break;
      default:
        break;
    }
  }

  _scan() {
    const r = this._readerNow();
    const n = r.count;
    for (let i = 0; i < n; i++) this._index(r.header(i));
  }

  _readerNow() {
    if (!this._reader) {
      this._reader = Reader.open(this.path, { keyring: this.keyring });
      this._stale = false;
    } else if (this._stale) {
      // A refresh keeps the old map until close: reopen now and then so a
      // long run does not accumulate mappings.
      if (++this._refreshes >= 256) {
        this._reader.close();
        this._reader = Reader.open(this.path, { keyring: this.keyring });
        this._refreshes = 0;
      } else {
        this._reader.refresh();
      }
      this._stale = false;
    }
    return this._reader;
  }

  /** Appends blocks [{type, payload, meta}] in one signed commit; returns their indices. */
  _append(blocks) {
    const w = this._writer;
    if (!w || w.closed) throw new Error('MaifSaver is closed');
    const first = w.count;
    try {
      for (const b of blocks) w.add(b.type, b.payload, b.meta);
      w.commit();
    } catch (e) {
      try { w.rollback(); } catch { /* the first error is the one to see */ }
      throw e;
    }
    this._stale = true;
    return blocks.map((b, i) => ({ index: first + i, type: b.type, metadata: b.meta }));
  }

  async _load(index, type) {
    const bytes = this._readerNow().read(index);
    return this.serde.loadsTyped(type, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  // -------------------------------------------------------------- reads

  _orderedWrites(t, ns, cid) {
    const stored = t?.writes.get(`${ns}\0${cid}`);
    if (!stored) return [];
    const keyed = [...stored.values()].map((w) => ({ key: writesSortKey(w.taskPath, w.taskId, w.idx), w }));
    keyed.sort((a, b) => compareWritesSortKeys(a.key, b.key));
    return keyed.map(({ w }) => w);
  }

  async _pendingWrites(t, ns, cid) {
    const out = [];
    for (const w of this._orderedWrites(t, ns, cid)) out.push([w.taskId, w.channel, await this._load(w.index, w.serde)]);
    return out;
  }

  async _metadata(entry) {
    const m = entry.meta;
    if (m.metadata !== undefined) return this.serde.loadsTyped('json', JSON.stringify(m.metadata));
    return this.serde.loadsTyped(m.metadata_serde, new Uint8Array(Buffer.from(m.metadata_b64, 'base64')));
  }

  async _tuple(tid, ns, cid, entry) {
    const t = this._thread(tid, false);
    const checkpoint = await this._load(entry.index, entry.meta.serde);
    const values = {};
    for (const [channel, version] of Object.entries(checkpoint.channel_versions ?? {})) {
      const blob = t.blobs.get(`${ns}\0${channel}\0${JSON.stringify(version)}`);
      if (blob !== undefined) values[channel] = await this._load(blob.index, blob.serde);
    }
    checkpoint.channel_values = values;
    if (checkpoint.v < 4 && entry.parent !== undefined) {
      // Checkpoints before format 4 kept pending sends as writes of their parent.
      const sends = [];
      for (const w of this._orderedWrites(t, ns, entry.parent)) {
        if (w.channel === TASKS) sends.push(await this._load(w.index, w.serde));
      }
      checkpoint.channel_values[TASKS] = sends;
      checkpoint.channel_versions ??= {};
      checkpoint.channel_versions[TASKS] = Object.keys(checkpoint.channel_versions).length > 0
        ? maxChannelVersion(...Object.values(checkpoint.channel_versions))
        : this.getNextVersion(undefined);
    }
    const tuple = {
      config: { configurable: { thread_id: tid, checkpoint_ns: ns, checkpoint_id: cid } },
      checkpoint,
      metadata: await this._metadata(entry),
      pendingWrites: await this._pendingWrites(t, ns, cid),
    };
    if (entry.parent !== undefined) {
      tuple.parentConfig = { configurable: { thread_id: tid, checkpoint_ns: ns, checkpoint_id: entry.parent } };
    }
    return tuple;
  }

  async getTuple(config) {
    const tid = config.configurable?.thread_id;
    const ns = config.configurable?.checkpoint_ns ?? '';
    const cid = getCheckpointId(config);
    if (tid === undefined) return undefined;
    assertKey('thread_id', tid);
    assertKey('checkpoint_ns', ns, true);
    const nsMap = this._thread(tid, false)?.checkpoints.get(ns);
    if (!nsMap || nsMap.size === 0) return undefined;
    if (cid) {
      const entry = nsMap.get(cid);
      if (!entry) return undefined;
      const tuple = await this._tuple(tid, ns, cid, entry);
      tuple.config = config;
      return tuple;
    }
    const latest = [...nsMap.keys()].sort().at(-1);
    return this._tuple(tid, ns, latest, nsMap.get(latest));
  }

  async *list(config, options = {}) {
    let { before, limit, filter } = options;
    const cfg = config?.configurable ?? {};
    const threadIds = cfg.thread_id ? [cfg.thread_id] : [...this.threads.keys()];
    for (const tid of threadIds) {
      const t = this._thread(tid, false);
      if (!t) continue;
      for (const [ns, nsMap] of t.checkpoints) {
        if (cfg.checkpoint_ns !== undefined && ns !== cfg.checkpoint_ns) continue;
        const ids = [...nsMap.keys()].sort().reverse();
        for (const cid of ids) {
          if (cfg.checkpoint_id && cid !== cfg.checkpoint_id) continue;
          if (before?.configurable?.checkpoint_id && cid >= before.configurable.checkpoint_id) continue;
          const entry = nsMap.get(cid);
          if (filter) {
            const md = await this._metadata(entry);
            if (!Object.entries(filter).every(([k, v]) => md?.[k] === v)) continue;
          }
          if (limit !== undefined) {
            if (limit <= 0) return;
            limit -= 1;
          }
          yield await this._tuple(tid, ns, cid, entry);
        }
      }
    }
  }

  // ------------------------------------------------------------- writes

  async put(config, checkpoint, metadata, newVersions = {}) {
    const tid = config.configurable?.thread_id;
    const ns = config.configurable?.checkpoint_ns ?? '';
    if (tid === undefined) {
      throw new Error('Failed to put checkpoint: the RunnableConfig has no "thread_id" in its "configurable" property.');
    }
    assertKey('thread_id', tid);
    assertKey('checkpoint_ns', ns, true);
    assertKey('checkpoint_id', checkpoint.id);
    const parent = config.configurable?.checkpoint_id || undefined;
    const copy = copyCheckpoint(checkpoint);
    const values = copy.channel_values;
    copy.channel_values = {};
    const [ctype, cbytes] = await this.serde.dumpsTyped(copy);
    const [mtype, mbytes] = await this.serde.dumpsTyped(metadata ?? {});
    const md = inlineJson(mtype, mbytes);
    const meta = { thread_id: tid, checkpoint_ns: ns, checkpoint_id: checkpoint.id, serde: ctype };
    if (parent !== undefined) meta.parent_checkpoint_id = parent;
    if (md.json !== undefined) meta.metadata = md.json;
    else Object.assign(meta, { metadata_b64: md.b64, metadata_serde: md.type });
    const blocks = [];
    const t = this._thread(tid, false);
    for (const [channel, version] of Object.entries(newVersions ?? {})) {
      if (!Object.prototype.hasOwnProperty.call(values, channel)) continue;
      if (t?.blobs.has(`${ns}\0${channel}\0${JSON.stringify(version)}`)) continue;
      const [vtype, vbytes] = await this.serde.dumpsTyped(values[channel]);
      blocks.push({
        type: BLOCK_CHANNEL_VALUE,
        payload: vbytes,
        meta: { thread_id: tid, checkpoint_ns: ns, checkpoint_id: checkpoint.id, channel, version, serde: vtype },
      });
    }
    blocks.push({ type: BLOCK_CHECKPOINT, payload: cbytes, meta });
    for (const h of this._append(blocks)) this._index(h);
    return { configurable: { thread_id: tid, checkpoint_ns: ns, checkpoint_id: checkpoint.id } };
  }

  async putWrites(config, writes, taskId, taskPath) {
    const tid = config.configurable?.thread_id;
    const ns = config.configurable?.checkpoint_ns ?? '';
    const cid = config.configurable?.checkpoint_id;
    if (tid === undefined) throw new Error('Failed to put writes: the RunnableConfig has no "thread_id" in its "configurable" property.');
    if (cid === undefined) throw new Error('Failed to put writes: the RunnableConfig has no "checkpoint_id" in its "configurable" property.');
    assertKey('thread_id', tid);
    assertKey('checkpoint_ns', ns, true);
    assertKey('checkpoint_id', cid);
    assertKey('task_id', taskId);
    const existing = this._thread(tid, false)?.writes.get(`${ns}\0${cid}`);
    const blocks = [];
    for (let i = 0; i < writes.length; i++) {
      const [channel, value] = writes[i];
      const idx = WRITES_IDX_MAP[channel] ?? i;
      if (idx >= 0 && existing?.has(`${taskId},${idx}`)) continue;
      const [type, bytes] = await this.serde.dumpsTyped(value);
      blocks.push({
        type: BLOCK_WRITE,
        payload: bytes,
        meta: { thread_id: tid, checkpoint_ns: ns, checkpoint_id: cid, task_id: taskId, task_path: taskPath ?? '', idx, channel, serde: type },
      });
    }
    if (blocks.length === 0) return;
    for (const h of this._append(blocks)) this._index(h);
  }

  /**
   * Hides every checkpoint, channel value and write of the thread from
   * later reads by appending a signed tombstone block. The bytes of the
   * thread's earlier blocks remain in the artifact (append-only): deletion
   * here is logical, not erasure.
   */
  async deleteThread(threadId) {
    assertKey('thread_id', threadId);
    const [h] = this._append([{
      type: BLOCK_TOMBSTONE,
      payload: JSON.stringify({ thread_id: threadId, deleted_at: new Date().toISOString() }),
      meta: { thread_id: threadId },
    }]);
    this._index(h);
  }

  /** Releases the writer lock and the reader. The key is not freed. */
  close() {
    if (this._reader) this._reader.close();
    this._reader = null;
    if (this._writer) this._writer.close();
    this._writer = null;
  }
}
