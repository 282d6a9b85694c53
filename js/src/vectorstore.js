// vectorstore.js: MaifVectorStore, a LangChain vector store whose documents
// and vectors are signed blocks of one maif artifact.
//
// A document is a TEXT block (its pageContent; its metadata object is the
// block's metadata, so `maif ls` and the semantic engine's filters see it);
// its vector is an EMBD block of one float32 row whose metadata names the
// "model" and the "source_block" (the TEXT block's 32-hex id), as
// docs/SEMANTIC.md defines them. Search is an exact cosine scan over the
// stored vectors of the query's dimension (ExactScan below). That is the
// seam for the C semantic index (maif_index_* / maif_search_*, being
// merged separately): a backend with the same two methods, add() and
// search(), replaces ExactScan without touching the store.
import fs from 'node:fs';
import { VectorStore } from '@langchain/core/vectorstores';
import { Document } from '@langchain/core/documents';
import { Key, Reader, Writer } from './index.js';

/** Exact cosine similarity over every stored vector (unit-normalised copies). */
export class ExactScan {
  constructor() {
    this.entries = []; // {vector: Float32Array (unit length), textIndex, id, model}
  }

  add(entry) {
    const v = Float32Array.from(entry.vector);
    let n = 0;
    for (let i = 0; i < v.length; i++) n += v[i] * v[i];
    n = Math.sqrt(n);
    if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
    this.entries.push({ ...entry, vector: v });
  }

  get size() {
    return this.entries.length;
  }

  /** The k best entries for query (cosine, higher is better) that accept(entry) admits. */
  async search(query, k, accept) {
    let qn = 0;
    for (const x of query) qn += x * x;
    qn = Math.sqrt(qn);
    const scored = [];
    for (const e of this.entries) {
      if (e.vector.length !== query.length) continue;
      let dot = 0;
      for (let i = 0; i < query.length; i++) dot += e.vector[i] * query[i];
      scored.push({ entry: e, score: qn > 0 ? dot / qn : 0 });
    }
    scored.sort((a, b) => b.score - a.score);
    const out = [];
    for (const s of scored) {
      if (out.length >= k) break;
      if (await accept(s.entry)) out.push(s);
    }
    return out;
  }
}

function metadataMatches(meta, filter) {
  return Object.entries(filter).every(([k, v]) => JSON.stringify(meta?.[k]) === JSON.stringify(v));
}

/**
 * A LangChain VectorStore over the maif artifact at options.path (created
 * if missing). options: path (required), key (a maif Key or a key file
 * path; default a fresh key, readable as store.key), agentId, model (the
 * "model" recorded in EMBD blocks and the only model searched; default the
 * embeddings' model name, else its class name), keyring (a maif Keyring
 * to open sealed blocks; blocks it cannot open are skipped). Each
 * addVectors call is
 * one signed commit; other writers of the same file are picked up at the
 * next search.
 */
export class MaifVectorStore extends VectorStore {
  _vectorstoreType() {
    return 'maif';
  }

  constructor(embeddings, options = {}) {
    super(embeddings, options);
    if (!options.path) throw new Error('MaifVectorStore needs options.path');
    this.path = String(options.path);
    if (options.key instanceof Key) this.key = options.key;
    else if (typeof options.key === 'string') this.key = Key.load(options.key);
    else this.key = Key.generate();
    this.agentId = options.agentId;
    this.keyring = options.keyring ?? null; // opens sealed texts and vectors written by others
    this.model = options.model ?? embeddings?.model ?? embeddings?.modelName ?? embeddings?.constructor?.name ?? 'unknown';
    this.index = options.index ?? new ExactScan();
    this._reader = null;
    this._scanned = 0; // blocks of the artifact already indexed
    if (!fs.existsSync(this.path)) {
      const w = Writer.create(this.path, { key: this.key, agentId: this.agentId });
      w.close();
    }
    this._sync();
  }

  /** Indexes the blocks appended since the last look (by this store or any other writer). */
  _sync() {
    if (!this._reader) this._reader = Reader.open(this.path, { keyring: this.keyring });
    else this._reader.refresh();
    const r = this._reader;
    const n = r.count;
    for (let i = this._scanned; i < n; i++) {
      const h = r.header(i);
      if (h.type !== 'EMBD') continue;
      const m = h.metadata ?? {};
      if (m.model !== this.model || typeof m.source_block !== 'string' || m.count !== 1) continue;
      let textIndex;
      try {
        textIndex = r.find(m.source_block);
      } catch {
        continue; // a vector whose text is not in this artifact
      }
      let b;
      try {
        b = r.block(i);
      } catch {
        continue; // sealed without a key in this store's keyring, or unreadable
      }
      if (!b.vectors[0] || b.vectors[0].length !== m.dimensions) continue;
      this.index.add({ vector: b.vectors[0], textIndex, id: m.source_block, model: m.model });
    }
    this._scanned = n;
  }

  async addDocuments(documents, options = {}) {
    const texts = documents.map((d) => d.pageContent);
    return this.addVectors(await this.embeddings.embedDocuments(texts), documents, options);
  }

  /** Stores each document as a TEXT block and its vector as an EMBD block, in one signed commit; returns the text blocks' ids. */
  async addVectors(vectors, documents, options = {}) {
    if (vectors.length !== documents.length) {
      throw new Error(`addVectors: ${vectors.length} vectors for ${documents.length} documents`);
    }
    const ids = [];
    const w = Writer.open(this.path, { key: this.key, lockWaitMs: options.lockWaitMs ?? 10000 });
    try {
      for (let i = 0; i < documents.length; i++) {
        const d = documents[i];
        const meta = d.metadata && Object.keys(d.metadata).length ? d.metadata : null;
        const id = w.addText(d.pageContent, meta, options.ids?.[i] ? { id: options.ids[i] } : {});
        w.addEmbedding([vectors[i]], { model: this.model, source_block: id });
        ids.push(id);
      }
      w.commit();
    } finally {
      w.close();
    }
    this._sync();
    return ids;
  }

  /**
   * The k documents whose vectors are nearest to query by cosine
   * similarity (higher is better), each with its score. filter: an object
   * of metadata values that must all be equal, or a function of the
   * Document returning true to keep it.
   */
  async similaritySearchVectorWithScore(query, k, filter) {
    this._sync();
    const r = this._reader;
    const docs = new Map();
    const doc = (e) => {
      let d = docs.get(e.textIndex);
      if (!d) {
        const b = r.block(e.textIndex);
        d = new Document({ pageContent: b.text, metadata: b.metadata ?? {}, id: b.id });
        docs.set(e.textIndex, d);
      }
      return d;
    };
    const accept = async (e) => {
      if (!filter) return true;
      const d = doc(e);
      return typeof filter === 'function' ? filter(d) : metadataMatches(d.metadata, filter);
    };
    const hits = await this.index.search(Array.from(query, Number), k, accept);
    return hits.map((h) => [doc(h.entry), h.score]);
  }

  static async fromTexts(texts, metadatas, embeddings, dbConfig) {
    const docs = texts.map((t, i) => new Document({
      pageContent: t,
      metadata: (Array.isArray(metadatas) ? metadatas[i] : metadatas) ?? {},
    }));
    return MaifVectorStore.fromDocuments(docs, embeddings, dbConfig);
  }

  static async fromDocuments(docs, embeddings, dbConfig) {
    const store = new MaifVectorStore(embeddings, dbConfig);
    await store.addDocuments(docs);
    return store;
  }

  /** Opens the store over an existing artifact without adding anything. */
  static async fromExistingIndex(embeddings, dbConfig) {
    return new MaifVectorStore(embeddings, dbConfig);
  }

  close() {
    if (this._reader) this._reader.close();
    this._reader = null;
  }
}
