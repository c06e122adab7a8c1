/**
 * Redis Cluster hash slots (CRC16-XMODEM of the key, or of its `{hash tag}`, modulo 16384), to find the node
 * that owns a key — e.g. to send `WAIT` on the very connection that performed the write.
 */
import { Cluster, type Redis } from 'ioredis';

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

export function crc16(data: Buffer): number {
  let crc = 0;
  for (const b of data) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ b) & 0xff] ?? 0);
  return crc;
}

/** The cluster slot of a key, honouring `{hash tags}`. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key, 'utf8')) % 16384;
}

/** The master connection that serves `key` in a cluster client (after its slot map is loaded). */
export function nodeForKey(cluster: Cluster, key: string): Redis | undefined {
  const slot = keySlot(key);
  const owner = (cluster.slots[slot] ?? [])[0];
  if (!owner) return undefined;
  return cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
}

export const isCluster = (c: unknown): c is Cluster => c instanceof Cluster;
