/**
 * TLS to Redis: the one place that turns the configuration into Node TLS options (every connection Naboom
 * makes takes them from here) and that says what a failed handshake means, with the variable to fix.
 * Certificate verification is always on: nothing here can turn it off.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { HostPort, TlsSettings } from '../config/load.js';
import { NaboomError } from '../errors/catalogue.js';

/** Node TLS options for a connection, or undefined when REDIS_TLS is off. */
export function tlsConnectionOptions(tls: TlsSettings): ConnectionOptions | undefined {
  if (!tls.enabled) return undefined;
  return {
    rejectUnauthorized: true,
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key.reveal() } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
  };
}

/** OpenSSL's verification results for a chain that does not lead to a CA we trust. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
/** Alerts a server sends when it wants a client certificate, or refuses ours. */
const CLIENT_CERT = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
]);
/** What a TLS client sees when the port speaks plain RESP. */
const PLAINTEXT_PEER = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_UNKNOWN_PROTOCOL', 'EPROTO']);

const codeOf = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * The TLS failure behind `err` (looking through `cause`), as a catalogue error naming the cause and the
 * variable to fix; undefined when it is not a TLS failure. `where` names the node.
 */
export function classifyTlsError(err: unknown, tls: TlsSettings, where = 'Redis'): NaboomError | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth += 1) {
    const code = codeOf(e);
    const reason = `${e.message}${code && !e.message.includes(code) ? ` (${code})` : ''}`;
    if (code && UNTRUSTED.has(code)) {
      const trust = tls.caFile ? `the CA in REDIS_TLS_CA_FILE (${tls.caFile})` : "Node's public CAs (REDIS_TLS_CA_FILE is not set)";
      return new NaboomError('NABOOM_REDIS_TLS_UNTRUSTED', `${where}: the server's certificate is not trusted: it is not signed by ${trust}: ${reason}`, { cause: err });
    }
    if (code && EXPIRED.has(code)) {
      return new NaboomError('NABOOM_REDIS_TLS_EXPIRED', `${where}: the server's certificate ${code === 'CERT_NOT_YET_VALID' ? 'is not valid yet (check the clocks)' : 'has expired'}: ${reason}`, { cause: err });
    }
    if (code && HOSTNAME.has(code)) {
      const name = tls.servername ? `REDIS_TLS_SERVERNAME=${tls.servername}` : 'the host Naboom connects to (REDIS_TLS_SERVERNAME is not set)';
      return new NaboomError('NABOOM_REDIS_TLS_HOSTNAME', `${where}: the server's certificate does not name ${name}: ${reason}`, { cause: err });
    }
    if (code && CLIENT_CERT.has(code)) {
      const ours = tls.certFile ? `it refused the client certificate in REDIS_TLS_CERT_FILE (${tls.certFile})` : 'it requires a client certificate and REDIS_TLS_CERT_FILE / REDIS_TLS_KEY_FILE are not set';
      return new NaboomError('NABOOM_REDIS_TLS_CLIENT_CERT', `${where}: the server ended the TLS handshake: ${ours}: ${reason}`, { cause: err });
    }
    if (code && PLAINTEXT_PEER.has(code) && tls.enabled) {
      return tlsMismatch(where, true, err);
    }
    e = e.cause;
  }
  return undefined;
}

/** The TLS/plaintext mismatch error: `tlsClient` = REDIS_TLS is on and the port speaks plaintext. */
export function tlsMismatch(where: string, tlsClient: boolean, cause?: unknown): NaboomError {
  const message = tlsClient
    ? `${where}: REDIS_TLS=true but this port speaks plaintext Redis, not TLS: point REDIS_PORT (or the node list) at the server's tls-port, or enable TLS on the server`
    : `${where}: this port speaks TLS but REDIS_TLS is off: set REDIS_TLS=true (and REDIS_TLS_CA_FILE to the CA that signed the server's certificate)`;
  return new NaboomError('NABOOM_REDIS_TLS_MISMATCH', message, cause === undefined ? undefined : { cause });
}

/** What a port turned out to speak when asked directly. */
export type PortProbe = 'tls' | 'tls-closed-after-handshake' | 'plain' | 'unreachable';

/**
 * Asks `at` directly what it speaks: a TLS handshake with our own options (verification on: a certificate
 * error also proves the port speaks TLS), then a PING inside it. 'tls-closed-after-handshake' is a server
 * that completes the handshake and then drops us without a reply: with TLS 1.3 that is how redis-server
 * refuses a connection without (or with an unacceptable) client certificate.
 */
export async function probePort(at: HostPort, tls: TlsSettings, timeoutMs = 2000): Promise<PortProbe> {
  // Ask in the configured language first: a plaintext server never answers a ClientHello (it waits for the
  // rest of an "inline command"), so the wrong order would cost the whole timeout on every healthy server.
  if (!tls.enabled && (await answersPlaintext(at, timeoutMs))) return 'plain';
  const viaTls = await new Promise<PortProbe | 'not-tls'>((resolve) => {
    const socket = tlsConnect({ host: at.host, port: at.port, ...(tlsConnectionOptions({ ...tls, enabled: true }) ?? {}) });
    let handshaken = false;
    const done = (answer: PortProbe | 'not-tls'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(handshaken ? 'tls' : 'not-tls'), timeoutMs);
    socket.once('secureConnect', () => {
      handshaken = true;
      socket.write('PING\r\n');
    });
    socket.once('data', () => done('tls'));
    socket.once('close', () => done(handshaken ? 'tls-closed-after-handshake' : 'not-tls'));
    socket.once('error', (err) => {
      const code = codeOf(err);
      if (handshaken) done('tls-closed-after-handshake');
      else if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'ENETUNREACH') done('unreachable');
      else if (code && (UNTRUSTED.has(code) || EXPIRED.has(code) || HOSTNAME.has(code) || CLIENT_CERT.has(code))) done('tls');
      else done('not-tls');
    });
  });
  if (viaTls !== 'not-tls') return viaTls;
  return tls.enabled && (await answersPlaintext(at, timeoutMs)) ? 'plain' : 'unreachable';
}

/** Whether `at` answers a plaintext PING with anything that looks like RESP. */
export async function answersPlaintext(at: HostPort, timeoutMs = 1500): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = netConnect({ host: at.host, port: at.port });
    const done = (v: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (b: Buffer) => done(/^[+\-:$*%_]/.test(b.toString('latin1'))));
    s.once('error', () => done(false));
    s.once('close', () => done(false));
  });
}

/** Messages of a connection that ended without a reply (closed, reset, or a handshake that never finished). */
const ENDED_SILENTLY = /^(Connection is closed\.?|read ECONNRESET|write ECONNRESET|socket hang up|write EPIPE|connect ETIMEDOUT)/;
const SILENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * A connection error explained: a TLS failure, or — when the connection ended without a word — the port
 * asked directly: a plaintext client on a TLS port, a TLS client on a plaintext port, or a TLS server that
 * drops clients without an acceptable certificate. Undefined when none applies.
 */
export async function explainConnectError(err: unknown, tls: TlsSettings, at: HostPort | undefined, where = 'Redis'): Promise<NaboomError | undefined> {
  const direct = classifyTlsError(err, tls, where);
  if (direct) return direct;
  const code = codeOf(err);
  const silent = err instanceof Error && (ENDED_SILENTLY.test(err.message) || (code !== undefined && SILENT_CODES.has(code)));
  if (!silent || at === undefined) return undefined;
  const probe = await probePort(at, tls);
  if (!tls.enabled) return probe === 'tls' || probe === 'tls-closed-after-handshake' ? tlsMismatch(where, false, err) : undefined;
  if (probe === 'plain') return tlsMismatch(where, true, err);
  if (probe === 'tls-closed-after-handshake') {
    const ours = tls.certFile ? `it refused the client certificate in REDIS_TLS_CERT_FILE (${tls.certFile})` : 'it requires a client certificate and REDIS_TLS_CERT_FILE / REDIS_TLS_KEY_FILE are not set';
    return new NaboomError('NABOOM_REDIS_TLS_CLIENT_CERT', `${where}: the server closed the connection right after the TLS handshake: ${ours}`, { cause: err });
  }
  return undefined;
}
