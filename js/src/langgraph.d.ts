// Types of js/src/langgraph.js (docs/JS.md).
import type { RunnableConfig } from '@langchain/core/runnables';
import type {
  BaseCheckpointSaver, Checkpoint, CheckpointListOptions, CheckpointMetadata, CheckpointTuple, PendingWrite,
  SerializerProtocol, ChannelVersions,
} from '@langchain/langgraph-checkpoint';
import type { Key, Keyring } from './index.js';

export declare const BLOCK_CHECKPOINT: 'LGCK';
export declare const BLOCK_CHANNEL_VALUE: 'LGCV';
export declare const BLOCK_WRITE: 'LGWR';
export declare const BLOCK_TOMBSTONE: 'LGDL';

export interface MaifSaverOptions {
  /** A maif Key or a key file path; default a fresh key (saver.key). */
  key?: Key | string;
  agentId?: string;
  durable?: boolean;
  lockWaitMs?: number;
  serde?: SerializerProtocol;
  /** true: seal payloads for the saver's key; or a Keyring to seal for. */
  encrypt?: boolean | Keyring;
  cipher?: 'xchacha20-poly1305' | 'chacha20-poly1305' | 'aes-256-gcm';
  /** Opens payloads sealed earlier, without sealing new ones. */
  keyring?: Keyring;
}

export declare class MaifSaver extends BaseCheckpointSaver {
  constructor(path: string, options?: MaifSaverOptions);
  readonly path: string;
  readonly key: Key;
  readonly keyring: Keyring | null;
  getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined>;
  list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple>;
  put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig>;
  putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void>;
  deleteThread(threadId: string): Promise<void>;
  close(): void;
}
