// Types of js/src/vectorstore.js (docs/JS.md).
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import type { DocumentInterface } from '@langchain/core/documents';
import { VectorStore } from '@langchain/core/vectorstores';
import type { Key, Keyring } from './index.js';

export interface ScanEntry {
  vector: Float32Array;
  textIndex: number;
  id: string;
  model: string;
}

/** A search backend: ExactScan today, the C semantic index later. */
export interface SearchBackend {
  add(entry: { vector: ArrayLike<number>; textIndex: number; id: string; model: string }): void;
  search(query: number[], k: number, accept: (e: ScanEntry) => Promise<boolean>): Promise<Array<{ entry: ScanEntry; score: number }>>;
}

export declare class ExactScan implements SearchBackend {
  readonly size: number;
  add(entry: { vector: ArrayLike<number>; textIndex: number; id: string; model: string }): void;
  search(query: number[], k: number, accept: (e: ScanEntry) => Promise<boolean>): Promise<Array<{ entry: ScanEntry; score: number }>>;
}

export interface MaifVectorStoreOptions {
  path: string;
  key?: Key | string;
  agentId?: string;
  model?: string;
  keyring?: Keyring;
  index?: SearchBackend;
}

export type MaifFilter = Record<string, unknown> | ((doc: DocumentInterface) => boolean);

export declare class MaifVectorStore extends VectorStore {
  FilterType: MaifFilter;
  constructor(embeddings: EmbeddingsInterface, options: MaifVectorStoreOptions);
  readonly path: string;
  readonly key: Key;
  readonly model: string;
  _vectorstoreType(): string;
  addVectors(vectors: number[][], documents: DocumentInterface[], options?: { ids?: string[]; lockWaitMs?: number }): Promise<string[]>;
  addDocuments(documents: DocumentInterface[], options?: { ids?: string[]; lockWaitMs?: number }): Promise<string[]>;
  similaritySearchVectorWithScore(query: number[], k: number, filter?: MaifFilter): Promise<[DocumentInterface, number][]>;
  static fromTexts(texts: string[], metadatas: object[] | object, embeddings: EmbeddingsInterface, dbConfig: MaifVectorStoreOptions): Promise<MaifVectorStore>;
  static fromDocuments(docs: DocumentInterface[], embeddings: EmbeddingsInterface, dbConfig: MaifVectorStoreOptions): Promise<MaifVectorStore>;
  static fromExistingIndex(embeddings: EmbeddingsInterface, dbConfig: MaifVectorStoreOptions): Promise<MaifVectorStore>;
  close(): void;
}
