/**
 * Loads the configuration once at start: environment over `.env`, `*_PASSWORD_FILE` resolved, everything
 * validated against the schema, the result frozen and passed down. Nothing in Naboom reads `process.env`
 * elsewhere.
 */
import { createECDH } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { NaboomError } from '../errors/catalogue.js';
import { mapTilesOf } from './map.js';
import { ROLE_ACCOUNTS, ROLE_NAMES, type RoleName } from './roles.js';
import { commaList, settingsSchema, type Settings } from './schema.js';
import { Secret } from './secret.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type Topology =
  | { readonly kind: 'standalone'; readonly host: string; readonly port: number }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly HostPort[]; readonly masterName: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[] };

/** Where a role's password came from; rotation writes the new one back to the same place. */
export type SecretSource =
  | { readonly kind: 'env'; readonly variable: string; readonly envFile: string | undefined }
  | { readonly kind: 'file'; readonly variable: string; readonly path: string };

export interface RoleCredentials {
  readonly role: RoleName;
  readonly username: string;
  /** `undefined` only for roles the current command does not need. */
  readonly password: Secret | undefined;
  readonly passwordVariable: string;
  readonly source: SecretSource | undefined;
}

/**
 * TLS to every Redis node. Certificate verification is always on: there is deliberately no setting that
 * turns it off. `cert`/`key` are the client certificate for servers that require one (mutual TLS).
 */
export interface TlsSettings {
  readonly enabled: boolean;
  /** PEM of REDIS_TLS_CA_FILE; undefined = Node's bundled public CAs. */
  readonly ca: string | undefined;
  readonly caFile: string | undefined;
  readonly cert: string | undefined;
  readonly certFile: string | undefined;
  readonly key: Secret | undefined;
  /** Where the key came from (REDIS_TLS_KEY_FILE or REDIS_TLS_KEY); re-read after a certificate rotation. */
  readonly keySource: SecretSource | undefined;
  readonly servername: string | undefined;
}

export interface Config {
  readonly settings: Settings;
  readonly envFile: string | undefined;
  readonly topology: Topology;
  readonly tls: TlsSettings;
  readonly credentials: Readonly<Record<RoleName, RoleCredentials>>;
  /** SECRET_KEY entries; the first encrypts, all decrypt. Empty when the command does not need it. */
  readonly secretKeys: readonly Secret[];
  readonly metricsToken: Secret | undefined;
  /** HMAC key for the X-Naboom-Signature header of webhook notifications (NOTIFY_WEBHOOK_SECRET). */
  readonly webhookSecret: Secret | undefined;
  /** The VAPID key pair and subject for Web Push; `undefined` when no pair is configured (push is off). */
  readonly vapid: VapidConfig | undefined;
  /** Minimum replicas that must confirm an alert before 201 (0 on standalone unless set). */
  readonly alertMinReplicas: number;
}

/** VAPID (RFC 8292): the key pair that signs every push request, and the operator's contact. */
export interface VapidConfig {
  /** base64url of the 65-byte public key; browsers pass it to `pushManager.subscribe`. */
  readonly publicKey: string;
  /** base64url of the 32-byte private key. */
  readonly privateKey: Secret;
  readonly subject: string;
}

const VAPID_PRIVATE_KEY = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** True when the public key is the P-256 point of the private key (a mismatched pair fails every push). */
function vapidPairMatches(publicKey: string, privateKey: string): boolean {
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
    return ecdh.getPublicKey().equals(Buffer.from(publicKey, 'base64url'));
  } catch {
    return false;
  }
}

/** The VAPID settings, or `undefined` when neither key is set; half a pair or a pair without a subject is refused. */
function loadVapid(settings: Settings, privateKey: SecretLookup): VapidConfig | undefined {
  const pub = settings.VAPID_PUBLIC_KEY;
  const priv = isBlank(privateKey.value) ? undefined : (privateKey.value as string).trim();
  if (pub === undefined && priv === undefined) return undefined;
  if (pub === undefined || priv === undefined) {
    const missing = pub === undefined ? 'VAPID_PUBLIC_KEY' : privateKey.variable;
    throw new NaboomError('NABOOM_CONFIG_INVALID', `Half a VAPID key pair: ${missing} is missing (set both, or neither to turn push off)`);
  }
  if (!VAPID_PRIVATE_KEY.test(priv)) {
    throw new NaboomError('NABOOM_CONFIG_INVALID', `${privateKey.variable}: must be the base64url (no padding) of a 32-byte P-256 private key (\`naboom init\` writes one)`);
  }
  if (!vapidPairMatches(pub, priv)) {
    throw new NaboomError('NABOOM_CONFIG_INVALID', `VAPID_PUBLIC_KEY does not belong to ${privateKey.variable}: every push would be refused; set the pair \`naboom init\` wrote together`);
  }
  if (settings.VAPID_SUBJECT === undefined) {
    throw new NaboomError('NABOOM_CONFIG_INVALID', 'VAPID_SUBJECT: required with a VAPID key pair (mailto:ops@example.org or an https: URL)');
  }
  return Object.freeze({ publicKey: pub, privateKey: new Secret(priv), subject: settings.VAPID_SUBJECT });
}

export interface LoadOptions {
  /** Environment to read; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `.env` path; `undefined` = `NABOOM_ENV_FILE` or `./.env` when present; `false` = none. */
  readonly envFile?: string | false;
  /** Roles whose password this command needs: missing ones stop the command. */
  readonly requireRoles?: readonly RoleName[];
  readonly requireSecretKey?: boolean;
  /** Command name, for error messages ("required by naboom serve"). */
  readonly command?: string;
}

export const MIN_SECRET_KEY_LENGTH = 32;

/** Reads and parses a `.env` file; `undefined` when it does not exist. */
export function readEnvFile(path: string): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (cause) {
    throw new NaboomError('NABOOM_CONFIG_INVALID', `Cannot read ${path}`, { cause });
  }
}

function resolveEnvFile(opt: string | false | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (opt === false) return undefined;
  if (typeof opt === 'string') return resolve(opt);
  const fromEnv = env['NABOOM_ENV_FILE'];
  if (fromEnv && fromEnv.trim()) return resolve(fromEnv.trim());
  const local = resolve('.env');
  return existsSync(local) ? local : undefined;
}

function readSecretFile(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (cause) {
    const reason = cause instanceof Error && 'code' in cause ? String(cause.code) : 'unreadable';
    throw new NaboomError('NABOOM_CONFIG_SECRET_FILE', `${variable}: cannot read ${path} (${reason})`, { cause });
  }
}

interface SecretLookup {
  value: string | undefined;
  source: SecretSource | undefined;
  /** The variable to name when the value is missing. */
  variable: string;
}

function lookupSecret(variable: string, merged: Record<string, string | undefined>, envFile: string | undefined, fromFile: Set<string>): SecretLookup {
  const direct = merged[variable];
  const filePath = merged[`${variable}_FILE`];
  if (direct !== undefined && direct !== '' && filePath !== undefined && filePath !== '') {
    throw new NaboomError('NABOOM_CONFIG_INVALID', `${variable} and ${variable}_FILE are both set; keep one`);
  }
  if (filePath !== undefined && filePath.trim() !== '') {
    const path = resolve(filePath.trim());
    return { value: readSecretFile(`${variable}_FILE`, path), source: { kind: 'file', variable: `${variable}_FILE`, path }, variable: `${variable}_FILE` };
  }
  return {
    value: direct,
    source: { kind: 'env', variable, envFile: fromFile.has(variable) ? envFile : undefined },
    variable,
  };
}

const isBlank = (v: string | undefined): boolean => v === undefined || v.trim() === '';

/** Validates the environment and returns the frozen configuration, or throws a NaboomError naming the variable. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const envFile = resolveEnvFile(options.envFile, env);
  const fileVars = envFile ? (readEnvFile(envFile) ?? {}) : {};
  const fromFile = new Set(Object.keys(fileVars).filter((k) => env[k] === undefined));
  const merged: Record<string, string | undefined> = { ...fileVars, ...env };

  // Empty non-secret variables mean "use the default", as in most twelve-factor loaders.
  const raw: Record<string, string> = {};
  for (const key of Object.keys(settingsSchema.shape)) {
    const v = merged[key];
    if (v !== undefined && v.trim() !== '') raw[key] = v;
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new NaboomError('NABOOM_CONFIG_INVALID', `Invalid configuration: ${problems.join('; ')}`, { details: problems });
  }
  const settings = parsed.data;

  if (settings.REDIS_SENTINELS && settings.REDIS_CLUSTER_NODES) {
    throw new NaboomError('NABOOM_CONFIG_TOPOLOGY_CONFLICT');
  }
  const topology: Topology = settings.REDIS_CLUSTER_NODES
    ? { kind: 'cluster', nodes: settings.REDIS_CLUSTER_NODES }
    : settings.REDIS_SENTINELS
      ? { kind: 'sentinel', sentinels: settings.REDIS_SENTINELS, masterName: settings.REDIS_SENTINEL_MASTER }
      : { kind: 'standalone', host: settings.REDIS_HOST, port: settings.REDIS_PORT };

  const required = new Set(options.requireRoles ?? []);
  const missing: string[] = [];
  const credentials = {} as Record<RoleName, RoleCredentials>;
  for (const role of ROLE_NAMES) {
    const spec = ROLE_ACCOUNTS[role];
    const look = lookupSecret(spec.passwordEnv, merged, envFile, fromFile);
    const usernameKey = spec.userEnv as keyof Settings;
    const username = settings[usernameKey] as string;
    if (isBlank(look.value)) {
      if (required.has(role)) missing.push(look.variable);
      credentials[role] = Object.freeze({ role, username, password: undefined, passwordVariable: spec.passwordEnv, source: look.source });
    } else {
      credentials[role] = Object.freeze({
        role,
        username,
        password: new Secret(look.value as string),
        passwordVariable: spec.passwordEnv,
        source: look.source,
      });
    }
  }

  const keyLookup = lookupSecret('SECRET_KEY', merged, envFile, fromFile);
  const secretKeys = isBlank(keyLookup.value)
    ? []
    : commaList(keyLookup.value as string).map((k) => new Secret(k));
  if (options.requireSecretKey && secretKeys.length === 0) missing.push(keyLookup.variable);

  if (missing.length > 0) {
    const by = options.command ? ` (required by naboom ${options.command})` : '';
    throw new NaboomError('NABOOM_CONFIG_MISSING_SECRET', `Missing or empty: ${missing.join(', ')}${by}`, { details: missing });
  }
  if (secretKeys.some((k) => k.reveal().length < MIN_SECRET_KEY_LENGTH)) {
    throw new NaboomError('NABOOM_CONFIG_INVALID', `SECRET_KEY: every key must be at least ${MIN_SECRET_KEY_LENGTH} characters`);
  }

  const metrics = lookupSecret('METRICS_TOKEN', merged, envFile, fromFile);
  const webhook = lookupSecret('NOTIFY_WEBHOOK_SECRET', merged, envFile, fromFile);
  if (settings.NOTIFY_WEBHOOK_URLS.length > 0 && isBlank(webhook.value)) {
    throw new NaboomError('NABOOM_CONFIG_MISSING_SECRET', `Missing or empty: ${webhook.variable} (required when NOTIFY_WEBHOOK_URLS is set)`);
  }
  const vapid = loadVapid(settings, lookupSecret('VAPID_PRIVATE_KEY', merged, envFile, fromFile));
  const tls = loadTls(settings, merged, envFile, fromFile);
  // A tile URL without its attribution (or the other way round) stops here; the dashboard reads it again.
  mapTilesOf(settings);

  const config: Config = {
    settings: Object.freeze(settings),
    envFile,
    topology: Object.freeze(topology),
    tls,
    credentials: Object.freeze(credentials),
    secretKeys: Object.freeze(secretKeys),
    metricsToken: isBlank(metrics.value) ? undefined : new Secret(metrics.value as string),
    webhookSecret: isBlank(webhook.value) ? undefined : new Secret(webhook.value as string),
    vapid,
    alertMinReplicas: settings.ALERT_MIN_REPLICAS ?? (topology.kind === 'standalone' ? 0 : 1),
  };
  return Object.freeze(config);
}

function loadTls(settings: Settings, merged: Record<string, string | undefined>, envFile: string | undefined, fromFile: Set<string>): TlsSettings {
  const key = lookupSecret('REDIS_TLS_KEY', merged, envFile, fromFile);
  const hasKey = !isBlank(key.value);
  const certFile = settings.REDIS_TLS_CERT_FILE ? resolve(settings.REDIS_TLS_CERT_FILE) : undefined;
  const caFile = settings.REDIS_TLS_CA_FILE ? resolve(settings.REDIS_TLS_CA_FILE) : undefined;
  if (!settings.REDIS_TLS) {
    // Certificates without REDIS_TLS would be ignored and every password would still travel in clear.
    const stray = [caFile && 'REDIS_TLS_CA_FILE', certFile && 'REDIS_TLS_CERT_FILE', hasKey && key.variable, settings.REDIS_TLS_SERVERNAME && 'REDIS_TLS_SERVERNAME'].filter(Boolean);
    if (stray.length > 0) throw new NaboomError('NABOOM_CONFIG_INVALID', `${stray.join(', ')} set but REDIS_TLS is off: set REDIS_TLS=true (or unset them)`);
  }
  if (Boolean(certFile) !== hasKey) {
    throw new NaboomError('NABOOM_CONFIG_INVALID', certFile ? 'REDIS_TLS_CERT_FILE is set without REDIS_TLS_KEY_FILE: mutual TLS needs both' : `${key.variable} is set without REDIS_TLS_CERT_FILE: mutual TLS needs both`);
  }
  return Object.freeze({
    enabled: settings.REDIS_TLS,
    ca: caFile ? readSecretFile('REDIS_TLS_CA_FILE', caFile) : undefined,
    caFile,
    cert: certFile ? readSecretFile('REDIS_TLS_CERT_FILE', certFile) : undefined,
    certFile,
    key: hasKey ? new Secret(key.value as string) : undefined,
    keySource: hasKey ? key.source : undefined,
    servername: settings.REDIS_TLS_SERVERNAME,
  });
}

/**
 * Re-reads the CA, the client certificate and its key from their files (after a certificate rotation);
 * settings given inline in the environment stay as they were.
 */
export function rereadTls(tls: TlsSettings): TlsSettings {
  if (!tls.enabled) return tls;
  const key = tls.keySource?.kind === 'file' ? new Secret(readSecretFile(tls.keySource.variable, tls.keySource.path)) : tls.key;
  return Object.freeze({
    ...tls,
    ca: tls.caFile ? readSecretFile('REDIS_TLS_CA_FILE', tls.caFile) : tls.ca,
    cert: tls.certFile ? readSecretFile('REDIS_TLS_CERT_FILE', tls.certFile) : tls.cert,
    key,
  });
}

/** Re-reads one role's password from where it came from (used after `naboom acl rotate`). */
export function rereadPassword(cred: RoleCredentials): Secret | undefined {
  const src = cred.source;
  if (!src) return undefined;
  if (src.kind === 'file') {
    const v = readSecretFile(src.variable, src.path);
    return isBlank(v) ? undefined : new Secret(v);
  }
  if (!src.envFile) return undefined;
  const v = readEnvFile(src.envFile)?.[src.variable];
  return isBlank(v) ? undefined : new Secret(v as string);
}
