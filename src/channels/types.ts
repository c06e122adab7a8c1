/** Public types of the channel layer. */
import type { Config } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { RoleClients } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';

export interface ChannelLayerDeps {
  readonly clients: RoleClients;
  readonly config: Config;
  readonly keys: KeySpace;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Most messages one LPOP takes from a normal channel (default 64; the inbox takes at least 256). */
  readonly receiveBatch?: number;
}

export interface GroupSendResult {
  /** Other processes that were sent one envelope for their local members. */
  readonly processes: number;
  /** Non-local member channels the message was queued for. */
  readonly channels: number;
  /** This process's own local members it was delivered to. */
  readonly local: number;
  /** Members skipped because their channel was full (non-local ones and this process's local ones). */
  readonly skipped: string[];
  /** Processes whose inbox was full: all their local members were skipped (they are not known here). */
  readonly skippedProcesses: string[];
}
