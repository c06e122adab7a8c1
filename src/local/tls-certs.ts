/**
 * Certificates for local TLS servers (`naboom redis --tls`, `naboom dev` with NABOOM_REDIS_TLS, tests): a
 * private CA, a server certificate for 127.0.0.1/localhost and a client certificate for mutual TLS.
 *
 * Made with the `openssl` binary rather than a JavaScript X.509 library: it is on every Debian/Ubuntu
 * machine that has redis-server (both depend on libssl), it is the tool operators already use for Redis
 * certificates, and Node's own crypto can parse certificates but not issue them — a library would be a new
 * dependency in the product for a development-only feature. `openssl ca` is used (not `x509 -req`) because
 * it takes explicit validity dates, which the tests need for an expired certificate.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config, TlsSettings } from '../config/load.js';
import { Secret } from '../config/secret.js';
import { NaboomError } from '../errors/catalogue.js';
import type { LocalTlsOptions } from './redis-server.js';

export interface CertificateAuthority {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface LocalCertificates {
  readonly dir: string;
  readonly ca: CertificateAuthority;
  readonly server: IssuedCertificate;
  readonly client: IssuedCertificate;
}

export interface IssueOptions {
  /** File name stem under the CA's directory: `<name>.crt`, `<name>.key`. */
  readonly name: string;
  readonly commonName: string;
  /** subjectAltName entries, e.g. `IP:127.0.0.1`, `DNS:localhost`. */
  readonly altNames?: readonly string[];
  readonly usage: 'server' | 'client' | 'both';
  /** Validity; default now − 1 h … now + 825 days. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

const DAY_MS = 86_400_000;

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (cause) {
    const stderr = (cause as { stderr?: Buffer }).stderr?.toString() ?? '';
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new NaboomError('NABOOM_REDIS_START_FAILED', missing ? 'openssl is not installed (apt-get install -y openssl)' : `openssl ${args[0] ?? ''} failed: ${stderr.trim()}`, { cause });
  }
}

/** `openssl ca` validity format: YYYYMMDDHHMMSSZ. */
const asn1Time = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');

/** Creates a CA (EC P-256 key, 10 years) in `dir`. */
export function createCertificateAuthority(dir: string, commonName = 'Naboom local CA'): CertificateAuthority {
  const d = resolve(dir);
  mkdirSync(join(d, 'issued'), { recursive: true, mode: 0o700 });
  const ca = { certFile: join(d, 'ca.crt'), keyFile: join(d, 'ca.key') };
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', ca.keyFile], d);
  openssl(['req', '-x509', '-new', '-key', ca.keyFile, '-sha256', '-days', '3650', '-subj', `/CN=${commonName}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', ca.certFile], d);
  writeFileSync(join(d, 'index.txt'), '');
  writeFileSync(join(d, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  chmodSync(ca.keyFile, 0o600);
  return ca;
}

/** Issues a certificate signed by `ca` (whose directory holds the openssl CA database). */
export function issueCertificate(ca: CertificateAuthority, o: IssueOptions): IssuedCertificate {
  const d = resolve(ca.certFile, '..');
  const out = { certFile: join(d, `${o.name}.crt`), keyFile: join(d, `${o.name}.key`) };
  const csr = join(d, `${o.name}.csr`);
  const conf = join(d, `${o.name}.cnf`);
  const eku = o.usage === 'server' ? 'serverAuth' : o.usage === 'client' ? 'clientAuth' : 'serverAuth,clientAuth';
  writeFileSync(
    conf,
    [
      '[ca]',
      'default_ca = local',
      '[local]',
      `dir = ${d}`,
      `database = ${join(d, 'index.txt')}`,
      `new_certs_dir = ${join(d, 'issued')}`,
      `serial = ${join(d, 'serial')}`,
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      'copy_extensions = none',
      '[any]',
      'commonName = supplied',
      '[ext]',
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage = ${eku}`,
      ...(o.altNames && o.altNames.length > 0 ? [`subjectAltName = ${o.altNames.join(',')}`] : []),
      '',
    ].join('\n'),
  );
  const now = Date.now();
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', out.keyFile], d);
  chmodSync(out.keyFile, 0o600);
  openssl(['req', '-new', '-key', out.keyFile, '-subj', `/CN=${o.commonName}`, '-out', csr], d);
  openssl(
    [
      'ca', '-batch', '-config', conf, '-extensions', 'ext', '-notext', '-in', csr, '-out', out.certFile, '-cert', ca.certFile, '-keyfile', ca.keyFile,
      '-startdate', asn1Time(o.notBefore ?? new Date(now - 3_600_000)), '-enddate', asn1Time(o.notAfter ?? new Date(now + 825 * DAY_MS)),
    ],
    d,
  );
  rmSync(csr, { force: true });
  rmSync(conf, { force: true });
  return out;
}

/**
 * The local CA, server and client certificates under `dir` (`.naboom/tls/`), made once and reused: a second
 * run keeps the CA the clients already trust.
 */
export function ensureLocalCertificates(dir: string): LocalCertificates {
  const d = resolve(dir);
  const ca = { certFile: join(d, 'ca.crt'), keyFile: join(d, 'ca.key') };
  const server = { certFile: join(d, 'server.crt'), keyFile: join(d, 'server.key') };
  const client = { certFile: join(d, 'client.crt'), keyFile: join(d, 'client.key') };
  if ([ca, server, client].every((c) => existsSync(c.certFile) && existsSync(c.keyFile))) return { dir: d, ca, server, client };
  mkdirSync(d, { recursive: true, mode: 0o700 });
  createCertificateAuthority(d);
  issueCertificate(ca, { name: 'server', commonName: 'localhost', altNames: ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost'], usage: 'both' });
  issueCertificate(ca, { name: 'client', commonName: 'naboom', usage: 'client' });
  return { dir: d, ca, server, client };
}

/** The variables that point Naboom at local certificates (`withClientCertificate`: mutual TLS too). */
export function localTlsEnv(certs: LocalCertificates, withClientCertificate: boolean): Record<string, string> {
  return {
    REDIS_TLS: 'true',
    REDIS_TLS_CA_FILE: certs.ca.certFile,
    ...(withClientCertificate ? { REDIS_TLS_CERT_FILE: certs.client.certFile, REDIS_TLS_KEY_FILE: certs.client.keyFile } : {}),
  };
}

/** `config` connecting over TLS with the local certificates (client certificate included), whatever its env said. */
export function withLocalTls(config: Config, certs: LocalCertificates): Config {
  const tls: TlsSettings = Object.freeze({
    enabled: true,
    ca: readFileSync(certs.ca.certFile, 'utf8'),
    caFile: certs.ca.certFile,
    cert: readFileSync(certs.client.certFile, 'utf8'),
    certFile: certs.client.certFile,
    key: new Secret(readFileSync(certs.client.keyFile, 'utf8')),
    keySource: { kind: 'file' as const, variable: 'REDIS_TLS_KEY_FILE', path: certs.client.keyFile },
    servername: undefined,
  });
  return Object.freeze({ ...config, tls });
}

/** The server side of the local certificates, for redis-server and Sentinel. */
export function serverTls(certs: LocalCertificates, authClients: 'optional' | 'yes' = 'optional'): LocalTlsOptions {
  return { certFile: certs.server.certFile, keyFile: certs.server.keyFile, caFile: certs.ca.certFile, authClients };
}
