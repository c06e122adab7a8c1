// A minimal WebSocket client for the fan-out benchmark (RFC 6455: handshake with Sec-WebSocket-Accept
// check, masked client frames, an incremental frame parser, pongs). 10,000 of them share the two cores with
// the server, so each one must cost less per message than the server spends sending it; the `ws` client
// spends more than that (its receiver, events and a string per message), which made the load generator,
// not the server, the measured bottleneck. It speaks the same protocol the server speaks to browsers.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const EMPTY = Buffer.alloc(0);

/** A masked client frame (opcode 1 text, 9 ping, 10 pong, 8 close). */
function clientFrame(opcode, payload) {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  const mask = randomBytes(4);
  mask.copy(out, header);
  for (let i = 0; i < n; i++) out[header + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

/**
 * Opens one WebSocket. `onMessage(payload: Buffer)` gets each text message's bytes (no decoding: the caller
 * reads what it needs); `onClose()`, when given, is called once the connection is gone after it opened.
 * Resolves once the handshake is accepted.
 */
export function connectWs(url, headers, onMessage, onClose) {
  const u = new URL(url);
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    socket.setNoDelay(true);
    let buf = EMPTY;
    let open = false;
    const client = {
      send(text) {
        socket.write(clientFrame(1, Buffer.from(text, 'utf8')));
      },
      close() {
        socket.destroy();
      },
    };
    socket.once('error', (err) => (open ? undefined : reject(err)));
    socket.once('close', () => (open ? onClose?.() : reject(new Error('connection closed before the handshake'))));
    socket.on('connect', () => {
      const lines = [`GET ${u.pathname} HTTP/1.1`, `Host: ${u.host}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13'];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    socket.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        if (!head.startsWith('HTTP/1.1 101') || !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
          socket.destroy();
          reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
          return;
        }
        open = true;
        buf = buf.subarray(end + 4);
        resolve(client);
      }
      // Frames: server frames are unmasked.
      while (buf.length >= 2) {
        const opcode = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + len) return;
        const payload = buf.subarray(at, at + len);
        // Usually the whole chunk was this one frame: nothing left to slice.
        buf = at + len === buf.length ? EMPTY : buf.subarray(at + len);
        if (opcode === 1) onMessage(payload);
        else if (opcode === 9) socket.write(clientFrame(10, payload));
        else if (opcode === 8) socket.end();
      }
    });
  });
}
