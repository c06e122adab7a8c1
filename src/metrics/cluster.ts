/**
 * Metrics of `naboom serve --workers N`: a scrape of /metrics lands on whichever worker the primary handed the
 * connection to, so each worker answers with every worker's metrics, aggregated by the primary (prom-client's
 * AggregatorRegistry: counters and histograms summed, so `naboom_live_clients` is the host's total). A scrape
 * therefore sees one consistent host, whichever worker answers it.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'naboom:metrics-request';
const REPLY = 'naboom:metrics-reply';
/** prom-client's own request to each worker gives up after 5 s; a worker waits a little longer for the primary. */
const TIMEOUT_MS = 6000;

interface MetricsRequest {
  readonly type: typeof REQUEST;
  readonly id: number;
}
interface MetricsReply {
  readonly type: typeof REPLY;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

const isRecord = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;
const isRequest = (m: unknown): m is MetricsRequest => isRecord(m) && m['type'] === REQUEST && typeof m['id'] === 'number';
const isReply = (m: unknown): m is MetricsReply =>
  isRecord(m) && m['type'] === REPLY && typeof m['id'] === 'number' && (m['text'] === undefined || typeof m['text'] === 'string') && (m['error'] === undefined || typeof m['error'] === 'string');

/** In the primary: answers every worker's request with all workers' metrics, aggregated. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isRequest(message)) return;
    const answer = (reply: Omit<MetricsReply, 'type' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ type: REPLY, id: message.id, ...reply });
    };
    aggregator.clusterMetrics().then(
      (text) => answer({ text }),
      (err: unknown) => answer({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
}

/**
 * In a worker: hands this process's registry to the primary's aggregation and returns what /metrics answers
 * with — every worker's metrics; this worker's own, marked as such, if the primary does not answer.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructed for its side effect: the listener that answers the primary's collection requests.
  new AggregatorRegistry();
  let next = 0;
  const pending = new Map<number, (reply: MetricsReply | undefined) => void>();
  process.on('message', (message: unknown) => {
    if (isReply(message)) pending.get(message.id)?.(message);
  });
  return async () => {
    const id = next++;
    const reply = await new Promise<MetricsReply | undefined>((resolve) => {
      const timer = setTimeout(() => settle(undefined), TIMEOUT_MS);
      const settle = (r: MetricsReply | undefined): void => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(r);
      };
      pending.set(id, settle);
      if (!process.send?.({ type: REQUEST, id } satisfies MetricsRequest)) settle(undefined);
    });
    if (reply?.text !== undefined) return reply.text;
    return `# naboom: the other serve workers could not be collected (${reply?.error ?? 'no answer from the primary'}); this worker only\n${await registry.metrics()}`;
  };
}
