// A worker process for the kill -9 test: the real NotificationWorker (built code) with short locks, so a
// job left by a killed worker is found stalled within seconds instead of a minute.
import { loadConfig } from '../../dist/config/load.js';
import { createLogger } from '../../dist/log/logger.js';
import { Metrics } from '../../dist/metrics/registry.js';
import { NotificationWorker } from '../../dist/queue/worker.js';
import { createKeySpace, layoutOf } from '../../dist/redis/keys.js';

const config = loadConfig({ envFile: process.argv[2], requireRoles: ['app'] });
const worker = new NotificationWorker(
  { config, keys: createKeySpace(layoutOf(config)), logger: createLogger({ level: 'warn' }), metrics: new Metrics() },
  { summaryPattern: false, lockDurationMs: 2000, stalledIntervalMs: 500 },
);
await worker.start();
process.stdout.write('worker ready\n');
process.on('SIGTERM', () => {
  void worker.stop(1000).then(() => process.exit(0));
});
