// The peers of the peer benchmark, one process each: `socketio <port>` (Socket.IO 4.8 with
// @socket.io/redis-adapter on an ACL'd Redis user: BENCH_SIO_REDIS = {"port","username","password"}) or
// `ws <port>` (plain ws, no Redis). Both take alerts as POST /publish (the body is the message) and send
// each to every connected client; they print "listening" once ready.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { WebSocketServer } from 'ws';

const [kind, portArg] = process.argv.slice(2);
const port = Number(portArg);
let broadcast;

const http = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/publish') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    broadcast(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(202).end();
  });
});

if (kind === 'socketio') {
  const r = JSON.parse(process.env.BENCH_SIO_REDIS ?? '{}');
  const opts = { host: '127.0.0.1', port: r.port, username: r.username, password: r.password, enableReadyCheck: false };
  const pub = new Redis(opts);
  const sub = pub.duplicate();
  const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false, adapter: createAdapter(pub, sub) });
  // The message goes out as an object, as a Socket.IO application would emit it.
  broadcast = (text) => io.emit('alert', JSON.parse(text));
} else if (kind === 'ws') {
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  broadcast = (text) => {
    for (const c of wss.clients) if (c.readyState === c.OPEN) c.send(text);
  };
} else {
  process.stderr.write(`unknown peer ${kind}\n`);
  process.exit(2);
}

http.listen(port, '127.0.0.1', () => process.stderr.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
