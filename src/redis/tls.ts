/**
 * TLS to Redis: the one place that turns the configuration into Node TLS options (every connection Naboom
 * makes takes them from here) and that says what a failed handshake means, with the variable to fix.
 * Certificate verification is always on: nothing here can turn it off.
 */
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

/**
 * Whether `at` answers a TLS handshake: 'tls' (it does, even when its certificate is not trusted), 'plain'
 * (it answered something else or closed) or 'unreachable'. Used to explain a plaintext connection that the
 * server closed without a word. Verification stays on: a certificate error also proves the port speaks TLS.
 */
export async function probeSpeaksTls(at: HostPort, tls: TlsSettings, timeoutMs = 2000): Promise<'tls' | 'plain' | 'unreachable'> {
  return await new Promise((resolve) => {
    const socket = tlsConnect({ host: at.host, port: at.port, ...(tlsConnectionOptions({ ...tls, enabled: true }) ?? {}) });
    const done = (answer: 'tls' | 'plain' | 'unreachable'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done('plain'), timeoutMs);
    socket.once('secureConnect', () => done('tls'));
    socket.once('error', (err) => {
      const code = codeOf(err);
      if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'ENETUNREACH') done('unreachable');
      else if (code && (UNTRUSTED.has(code) || EXPIRED.has(code) || HOSTNAME.has(code) || CLIENT_CERT.has(code))) done('tls');
      else done('plain');
    });
  });
}

/** Messages of a connection the server closed before answering (what a plaintext client on a TLS port sees). */
const CLOSED_SILENTLY = /^(Connection is closed\.?|read ECONNRESET|socket hang up|write EPIPE)/;

/**
 * A connection error explained: a TLS failure, or — when a plaintext connection was closed without a word —
 * a TLS port probed to say so. Undefined when neither applies.
 */
export async function explainConnectError(err: unknown, tls: TlsSettings, at: HostPort | undefined, where = 'Redis'): Promise<NaboomError | undefined> {
  const direct = classifyTlsError(err, tls, where);
  if (direct) return direct;
  const code = codeOf(err);
  const closed = err instanceof Error && (CLOSED_SILENTLY.test(err.message) || code === 'ECONNRESET' || code === 'EPIPE');
  if (!closed || at === undefined || tls.enabled) return undefined;
  return (await probeSpeaksTls(at, tls)) === 'tls' ? tlsMismatch(where, false, err) : undefined;
}
