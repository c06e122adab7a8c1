// The readers of the 10,000-client fan-out (forked by bench/alerts.mjs): one process holding every WebSocket
// client, as the plain-TCP floor's reader (socket-floor.mjs) is one process holding every TCP client, so the
// two are measured with the same arrangement. Each delivery's latency is its receipt time minus the alert's
// stream id time (the moment Redis stored it); once every client has an alert, its latencies go to the parent.
// Messages: → {type:'ready'} once every client is live; → {type:'alert', id, bytes, latencies} per alert
// (`bytes`: the size of its message).
import { connectWs } from './ws-client.mjs';

const { url, token, clients } = JSON.parse(process.argv[2]);
const ALERT = Buffer.from('{"type":"alert","id":"');
const LIVE = Buffer.from('"type":"live"');
const byAlert = new Map();
let live = 0;
// The alert being received: 10,000 messages in a row carry the same id, so it is decoded once, not per
// message (the reader must cost less per message than the server spends sending it).
let current = { idBytes: Buffer.alloc(0), id: '', stored: 0, list: [] };
const onMessage = (payload) => {
  const now = Date.now();
  if (payload.length > ALERT.length && payload.compare(ALERT, 0, ALERT.length, 0, ALERT.length) === 0) {
    const end = payload.indexOf(0x22, ALERT.length);
    const n = end - ALERT.length;
    if (n !== current.idBytes.length || payload.compare(current.idBytes, 0, n, ALERT.length, end) !== 0) {
      const id = payload.toString('latin1', ALERT.length, end);
      let entry = byAlert.get(id);
      if (!entry) byAlert.set(id, (entry = { idBytes: Buffer.from(id, 'latin1'), id, stored: Number(id.slice(0, id.indexOf('-'))), list: [] }));
      current = entry;
    }
    const list = current.list;
    list.push(now - current.stored);
    if (list.length === clients) {
      byAlert.delete(current.id);
      process.send({ type: 'alert', id: current.id, bytes: payload.length, latencies: list });
    }
  } else if (payload.includes(LIVE) && ++live === clients) process.send({ type: 'ready' });
};
// Connect in waves of 100 (a connection storm of 10,000 is not what is measured).
for (let i = 0; i < clients; i += 100) {
  const wave = await Promise.all(Array.from({ length: Math.min(100, clients - i) }, () => connectWs(`${url}/ws`, { authorization: `Bearer ${token}` }, onMessage)));
  for (const ws of wave) ws.send(JSON.stringify({ type: 'subscribe' }));
  if ((i + 100) % 2000 === 0) process.stderr.write(`  ${i + 100} clients connected\n`);
}
process.on('disconnect', () => process.exit(0));
