// The readers of the 10,000-client fan-out (forked by bench/alerts.mjs): one process holding every WebSocket
// client, as the plain-TCP floor's reader (socket-floor.mjs) is one process holding every TCP client, so the
// two are measured with the same arrangement. Each delivery's latency is its receipt time minus the alert's
// stream id time (the moment Redis stored it); once every client has an alert, its latencies go to the parent.
// Messages: → {type:'ready'} once every client is live; → {type:'alert', id, latencies} per alert.
import { connectWs } from './ws-client.mjs';

const { url, token, clients } = JSON.parse(process.argv[2]);
const ALERT = Buffer.from('{"type":"alert","id":"');
const LIVE = Buffer.from('"type":"live"');
const byAlert = new Map();
let live = 0;
const onMessage = (payload) => {
  const now = Date.now();
  if (payload.subarray(0, ALERT.length).equals(ALERT)) {
    const end = payload.indexOf(0x22, ALERT.length);
    const id = payload.toString('latin1', ALERT.length, end);
    let list = byAlert.get(id);
    if (!list) byAlert.set(id, (list = []));
    list.push(now - Number(id.split('-')[0]));
    if (list.length === clients) {
      byAlert.delete(id);
      process.send({ type: 'alert', id, latencies: list });
    }
  } else if (payload.includes(LIVE) && ++live === clients) process.send({ type: 'ready' });
};
// Connect in waves of 100 (a connection storm of 10,000 is not what is measured).
for (let i = 0; i < clients; i += 100) {
  const wave = await Promise.all(Array.from({ length: Math.min(100, clients - i) }, () => connectWs(`${url}/ws`, { authorization: `Bearer ${token}` }, onMessage)));
  for (const ws of wave) ws.send(JSON.stringify({ type: 'subscribe' }));
  if ((i + 100) % 2000 === 0) process.stderr.write(`  ${i + 100} clients connected\n`);
}
process.on('message', (m) => {
  if (m.type === 'partial') {
    // The parent gave up waiting for an alert: what arrived, so the loss is counted.
    process.send({ type: 'partial', counts: [...byAlert].map(([id, l]) => ({ id, latencies: l })) }, () => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
