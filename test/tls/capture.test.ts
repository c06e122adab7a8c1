/**
 * The point of TLS, proved on the wire: tcpdump on loopback records a plaintext run, where the app role's
 * password appears in the capture (the negative control: the capture can see it), and a TLS run, where it
 * does not.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/local/wait.js';
import { createLogger } from '../../src/log/logger.js';
import { RoleClients } from '../../src/redis/connections.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const logger = createLogger({ level: 'silent' });

/** Opens a TCP connection to `port` and closes it (packets for the capture to see). */
const touch = (port: number): Promise<void> =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', () => resolve());
  });

/** Captures loopback traffic to `port` while `run` runs; returns the raw pcap bytes. */
async function capture(dir: string, port: number, run: () => Promise<void>): Promise<Buffer> {
  const file = join(dir, `capture-${port}.pcap`);
  // --immediate-mode and -U: deliver and write each packet at once (else a block still buffered at SIGINT is lost); -s 0: whole packets; -Z root: keep writing where we can read it.
  const child = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-s', '0', '-n', '-Z', 'root', '-w', file, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) resolve();
    });
    child.once('error', reject);
    void exited.then(() => reject(new Error(`tcpdump exited: ${stderr}`)));
  });
  // "listening on" can come before packets are really captured (seen on a loaded machine: a run's first
  // packets, its AUTH among them, were missing). Connect until a packet is in the file (past its 24-byte
  // header), so what `run` sends is captured whole.
  await waitFor('tcpdump to capture a first packet', async () => {
    await touch(port);
    return statSync(file).size > 24;
  });
  try {
    await run();
  } finally {
    child.kill('SIGINT');
    await exited;
  }
  expect(stderr).toMatch(/\d+ packets? captured/);
  return readFileSync(file);
}

/** The app role logs in (HELLO/AUTH with its password) and writes a key, as the API does. */
async function appTraffic(t: TestRedis): Promise<void> {
  const clients = new RoleClients(t.config, logger);
  try {
    const app = clients.get('app');
    await app.set(t.keys.probe('app', 'capture'), 'on-the-wire', 'EX', 10);
  } finally {
    await clients.close();
  }
}

describe('what crosses the network', () => {
  let plain: TestRedis;
  let tls: TestRedis;
  const dir = mkdtempSync(join(tmpdir(), 'naboom-capture-'));
  beforeAll(async () => {
    [plain, tls] = await Promise.all([startTestRedis(), startTestRedis({ tls: {} })]);
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), tls?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('plaintext: the app password and the value are on the wire (the capture sees them)', async () => {
    const password = plain.config.credentials.app.password?.reveal() ?? '';
    expect(password.length).toBeGreaterThan(20);
    const bytes = await capture(dir, plain.port, () => appTraffic(plain));
    expect(bytes.includes(Buffer.from(password))).toBe(true);
    expect(bytes.includes(Buffer.from('on-the-wire'))).toBe(true);
  });

  it('TLS: neither the password nor the value is', async () => {
    const password = tls.config.credentials.app.password?.reveal() ?? '';
    const bytes = await capture(dir, tls.port, () => appTraffic(tls));
    // Traffic was captured (the handshake and records), just not readable.
    expect(bytes.length).toBeGreaterThan(2000);
    expect(bytes.includes(Buffer.from(password))).toBe(false);
    expect(bytes.includes(Buffer.from('on-the-wire'))).toBe(false);
    expect(bytes.includes(Buffer.from(tls.config.credentials.app.username))).toBe(false);
  });
});
