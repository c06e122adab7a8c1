/**
 * Section `tls` of `naboom verify`: every role's connection is TLS, each node's certificate chain and its
 * expiry (and the client certificate's), and — the point of TLS — that no node also listens in plaintext.
 */
import { X509Certificate } from 'node:crypto';
import { TLSSocket, type DetailedPeerCertificate } from 'node:tls';
import { Cluster, type Redis } from 'ioredis';
import type { Config, HostPort } from '../config/load.js';
import { connectAdmin, listNodes, nodeName } from '../redis/admin.js';
import type { RedisClient } from '../redis/connections.js';
import { answersPlaintext } from '../redis/tls.js';
import type { ClientRole } from '../redis/roles.js';
import type { CheckResult } from './types.js';

/** Warn when a certificate has fewer days left than this. */
export const CERT_WARN_DAYS = 30;
/** The plaintext port a managed service usually keeps beside its TLS port. */
const DEFAULT_PLAINTEXT_PORT = 6379;
const DAY_MS = 86_400_000;

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** The sockets a client talks over (a Cluster: one per node connection that is up; others open lazily). */
function streamsOf(client: RedisClient): unknown[] {
  return client instanceof Cluster ? client.nodes().filter((n) => n.status === 'ready').map((n) => n.stream) : [client.stream];
}

/** 'pass', 'warn' or 'fail' for a certificate valid until `validTo`. */
export function expiryStatus(validTo: Date, now: number): { status: 'pass' | 'warn' | 'fail'; days: number } {
  const days = Math.floor((validTo.getTime() - now) / DAY_MS);
  return { status: validTo.getTime() <= now ? 'fail' : days < CERT_WARN_DAYS ? 'warn' : 'pass', days };
}

const cn = (subject: unknown): string => {
  const s = subject as Record<string, string | string[] | undefined> | undefined;
  const v = s?.['CN'];
  return Array.isArray(v) ? v.join(',') : (v ?? '?');
};

/** The peer's chain, leaf first, up to the self-signed root. */
function chainOf(socket: TLSSocket): DetailedPeerCertificate[] {
  const out: DetailedPeerCertificate[] = [];
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c && Object.keys(c).length > 0 && !out.includes(c)) {
    out.push(c);
    c = c.issuerCertificate === c ? undefined : c.issuerCertificate;
  }
  return out;
}

function chainCheck(socket: TLSSocket, node: string, now: number): CheckResult {
  const chain = chainOf(socket);
  const base = { section: 'tls', node, name: 'certificate chain trusted and not expiring' } as const;
  if (chain.length === 0) return { ...base, status: 'fail', detail: 'the server sent no certificate' };
  const described = chain.map((c) => {
    const e = expiryStatus(new Date(c.valid_to), now);
    return { ...e, text: `${cn(c.subject)} (until ${new Date(c.valid_to).toISOString().slice(0, 10)}, ${e.days} days)` };
  });
  const worst = described.some((d) => d.status === 'fail') ? 'fail' : described.some((d) => d.status === 'warn') ? 'warn' : 'pass';
  return {
    ...base,
    status: socket.authorized ? worst : 'fail',
    detail: `${socket.authorized ? 'trusted' : `NOT trusted (${String(socket.authorizationError)})`}: ${described.map((d) => d.text).join(' ← ')}`,
    ...(worst === 'pass' ? {} : { hint: `Renew the certificate before it expires (verify warns ${CERT_WARN_DAYS} days ahead); Naboom re-reads REDIS_TLS_* files on SIGHUP.` }),
  };
}

/** `CONFIG GET port` as the master role must be 0; where CONFIG is refused, probe the usual plaintext port. */
async function plaintextCheck(admin: Redis, at: HostPort, node: string): Promise<CheckResult[]> {
  const base = { section: 'tls', node, name: 'no plaintext port open' } as const;
  try {
    const reply = (await admin.call('CONFIG', 'GET', 'port')) as string[];
    const port = Number(reply[1] ?? NaN);
    return [
      port === 0
        ? { ...base, status: 'pass', detail: 'CONFIG GET port → 0 (TLS only)' }
        : { ...base, status: 'fail', detail: `CONFIG GET port → ${reply[1] ?? '?'}: passwords can still be sent in clear there`, hint: 'Set `port 0` on the server (keep only tls-port) and restart it.' },
    ];
  } catch (err) {
    const probe = at.port === DEFAULT_PLAINTEXT_PORT ? undefined : { host: at.host, port: DEFAULT_PLAINTEXT_PORT };
    const open = probe ? await answersPlaintext(probe) : false;
    return [
      { ...base, name: 'CONFIG GET port allowed', status: 'warn', detail: `the server refused CONFIG (${(err as Error).message}), as managed services do: probed ${probe ? nodeName(probe) : 'nothing'} instead` },
      open
        ? { ...base, status: 'fail', detail: `${probe ? nodeName(probe) : ''} answers plaintext RESP`, hint: 'Disable the plaintext endpoint of the service (TLS only).' }
        : { ...base, status: 'pass', detail: `${probe ? nodeName(probe) : 'the default port'} does not answer in plaintext` },
    ];
  }
}

/** Section `tls`: runs only with REDIS_TLS; warns when it is off for a Redis that is not on loopback. */
export async function tlsChecks(config: Config, clients: ReadonlyMap<ClientRole, RedisClient>, now = Date.now()): Promise<CheckResult[]> {
  if (!config.tls.enabled) {
    const t = config.topology;
    const hosts = t.kind === 'standalone' ? [t.host] : t.kind === 'sentinel' ? t.sentinels.map((s) => s.host) : t.nodes.map((n) => n.host);
    const remote = hosts.filter((h) => !isLoopback(h));
    return [
      remote.length > 0
        ? { section: 'tls', name: 'passwords cross the network encrypted', status: 'warn', detail: `REDIS_TLS is off and Redis is on ${remote.join(', ')}: every AUTH/HELLO password crosses the network in clear`, hint: 'Enable TLS on the servers and set REDIS_TLS=true (README "TLS to Redis").' }
        : { section: 'tls', name: 'passwords cross the network encrypted', status: 'skip', detail: 'REDIS_TLS is off; Redis is on loopback' },
    ];
  }
  const out: CheckResult[] = [];
  for (const [role, client] of clients) {
    const streams = streamsOf(client);
    const tls = streams.filter((s): s is TLSSocket => s instanceof TLSSocket && s.encrypted);
    const first = tls[0];
    out.push({
      section: 'tls',
      role,
      name: `${config.credentials[role].username}'s connection is TLS`,
      status: streams.length > 0 && tls.length === streams.length ? 'pass' : 'fail',
      detail: first ? `${tls.length}/${streams.length} connection(s) encrypted, ${first.getProtocol() ?? '?'} ${first.getCipher().name}` : 'not encrypted',
    });
  }
  if (config.tls.cert) {
    const cert = new X509Certificate(config.tls.cert);
    const e = expiryStatus(new Date(cert.validTo), now);
    out.push({
      section: 'tls',
      name: 'client certificate (REDIS_TLS_CERT_FILE) not expiring',
      status: e.status,
      detail: `${cert.subject.replace(/\n/g, ', ')} until ${new Date(cert.validTo).toISOString().slice(0, 10)} (${e.days} days)`,
      ...(e.status === 'pass' ? {} : { hint: 'Issue a new client certificate, replace the files and send SIGHUP (or restart).' }),
    });
  }
  for (const n of await listNodes(config)) {
    const node = `${nodeName(n)} (${n.role ?? 'node'})`;
    let admin: Redis | undefined;
    try {
      admin = await connectAdmin(config, n);
      const socket = admin.stream;
      if (socket instanceof TLSSocket) out.push(chainCheck(socket, node, now));
      out.push(...(await plaintextCheck(admin, n, node)));
    } catch (err) {
      out.push({ section: 'tls', node, name: 'reachable over TLS as the master role', status: 'fail', detail: (err as Error).message, hint: (err as { hint?: string }).hint });
    } finally {
      admin?.disconnect();
    }
  }
  return out;
}
