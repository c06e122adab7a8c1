// A second Node process for the cross-process channel tests: its own channel layer, from the built code,
// driven by the test over IPC. Every command carries an id; the reply echoes it.
import { ChannelLayer } from '../../dist/channels/layer.js';
import { loadConfig } from '../../dist/config/load.js';
import { createLogger } from '../../dist/log/logger.js';
import { Metrics } from '../../dist/metrics/registry.js';
import { RoleClients } from '../../dist/redis/connections.js';
import { createKeySpace, layoutOf } from '../../dist/redis/keys.js';

const config = loadConfig({ env: {}, envFile: process.argv[2], requireRoles: ['websocket'], requireSecretKey: true });
const logger = createLogger({ level: 'silent' });
const clients = new RoleClients(config, logger);
const metrics = new Metrics();
const layer = new ChannelLayer({ clients, config, keys: createKeySpace(layoutOf(config)), logger, metrics });
await layer.start();

const full = [];
layer.onChannelFull((c) => full.push(c));
const loops = [];

/** Reports every message a channel receives, until the channel or the layer closes. */
function listen(channel) {
  loops.push(
    (async () => {
      for (;;) {
        let message;
        try {
          message = await layer.receive(channel);
        } catch {
          return;
        }
        process.send({ type: 'received', channel, message });
      }
    })(),
  );
}

async function counter(metric) {
  return (await metric.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
}

async function run(cmd) {
  switch (cmd.cmd) {
    case 'open': {
      const channels = Array.from({ length: cmd.count }, () => layer.newChannel(cmd.prefix ?? 'child'));
      for (const c of channels) listen(c);
      if (cmd.group) await Promise.all(channels.map((c) => layer.groupAdd(cmd.group, c)));
      return { channels };
    }
    case 'send':
      await layer.send(cmd.channel, cmd.message);
      return {};
    case 'groupSend':
      return { result: await layer.groupSend(cmd.group, cmd.message) };
    case 'close': {
      await layer.close();
      await clients.close();
      await Promise.all(loops);
      return { rejected: await counter(metrics.channelRejected), full };
    }
    default:
      throw new Error(`unknown command ${cmd.cmd}`);
  }
}

process.on('message', (cmd) => {
  run(cmd).then(
    (reply) => {
      process.send({ type: 'reply', id: cmd.id, ...reply });
      if (cmd.cmd === 'close') process.disconnect();
    },
    (err) => process.send({ type: 'reply', id: cmd.id, error: { code: err.code, message: err.message } }),
  );
});
process.send({ type: 'ready', processId: layer.processId });
