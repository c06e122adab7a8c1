/**
 * The one error catalogue. Every error Naboom reports to a user — over HTTP, on the CLI or from the config
 * loader — has a stable code from this table. Codes are never renamed or reused once released; retire a code
 * by leaving it here with `retired: true` (`{ ...def(…), retired: true }`): `NaboomError` then refuses it at
 * compile time, and the catalogue test requires the README to mark it retired and no source file to name it.
 */
export interface ErrorDefinition {
  /** HTTP status used when the error reaches the API. */
  readonly status: number;
  /** Default message; may be replaced by a more specific one at the throw site. */
  readonly message: string;
  /** What the operator can do about it (printed by the CLI, never sent over HTTP). */
  readonly hint: string;
  /** CLI exit code when this error ends a command. */
  readonly exit: number;
  /** No longer thrown; kept so its code is never given another meaning. */
  readonly retired?: true;
}

const def = (status: number, message: string, hint: string, exit = 2): ErrorDefinition => ({
  status,
  message,
  hint,
  exit,
});

export const ERRORS = {
  // configuration
  NABOOM_CONFIG_INVALID: def(500, 'Configuration is invalid', 'Fix the variable named in the message (see README "Configuration").'),
  NABOOM_CONFIG_MISSING_SECRET: def(
    500,
    'A required secret is missing',
    'Set the variable named in the message (or its *_FILE variant); `naboom init` writes a complete .env.',
  ),
  NABOOM_CONFIG_SECRET_FILE: def(500, 'A secret file cannot be read', 'Check the path and permissions of the *_PASSWORD_FILE variable.'),
  NABOOM_CONFIG_TOPOLOGY_CONFLICT: def(
    500,
    'REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set',
    'Choose one topology: unset REDIS_SENTINELS or REDIS_CLUSTER_NODES.',
  ),
  NABOOM_INIT_EXISTS: def(500, 'Refusing to overwrite an existing file', 'Pass --force to replace it (the old passwords stop working).'),
  NABOOM_USAGE: def(400, 'Invalid command line', 'Run the command with --help.'),
  // redis
  NABOOM_REDIS_UNAVAILABLE: def(503, 'Redis is unavailable', 'Check that Redis runs and REDIS_HOST/REDIS_PORT point at it (`naboom redis` starts a local one).'),
  NABOOM_REDIS_AUTH: def(503, 'Redis refused the credentials', 'The password in the environment does not match the server: run `naboom acl diff` / `naboom acl apply`.'),
  NABOOM_REDIS_NOPERM: def(500, 'Redis refused a command (ACL)', 'The role lacks a permission: run `naboom verify` and `naboom acl diff`.'),
  NABOOM_REDIS_CLUSTER_ACL: def(
    500,
    'The Cluster nodes carry an ACL rendered for the standalone layout',
    'Render the ACL for the Cluster layout (with REDIS_CLUSTER_NODES set: `naboom acl render --out users.acl` for the nodes\' aclfile) and apply it to every node as the master role: `naboom acl apply --all-nodes` (ACL changes do not replicate).',
  ),
  NABOOM_REDIS_TLS_UNTRUSTED: def(
    503,
    "Redis's TLS certificate is not trusted",
    'Set REDIS_TLS_CA_FILE to the CA certificate (PEM) that signed the server certificate; a managed service publishes its CA bundle.',
  ),
  NABOOM_REDIS_TLS_EXPIRED: def(503, "Redis's TLS certificate has expired (or is not valid yet)", 'Renew the server certificate (tls-cert-file) and reload it on the server; check the clocks if it is not valid yet.'),
  NABOOM_REDIS_TLS_HOSTNAME: def(
    503,
    "Redis's TLS certificate does not name the host Naboom connects to",
    'Set REDIS_TLS_SERVERNAME to a name the certificate carries (its subjectAltName), or connect by that name in REDIS_HOST / the node list.',
  ),
  NABOOM_REDIS_TLS_CLIENT_CERT: def(
    503,
    'Redis requires a client certificate (mutual TLS) or refused ours',
    'Set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE to a client certificate signed by the CA in the server\'s tls-ca-cert-file.',
  ),
  NABOOM_REDIS_TLS_MISMATCH: def(
    503,
    'TLS on one side, plaintext on the other',
    'Make REDIS_TLS match the port: REDIS_TLS=true for a tls-port, false for a plaintext port (and REDIS_PORT / the node list naming the right port).',
  ),
  NABOOM_REDIS_SERVER_MISSING: def(500, 'redis-server is not installed', 'Install it: `apt-get install -y redis-server` (or run `make dev`).'),
  NABOOM_REDIS_START_FAILED: def(500, 'redis-server did not start', 'Read the redis-server output printed above; is the port already in use?'),
  NABOOM_ACL_APPLY_FAILED: def(500, 'Provisioning the ACL users failed', 'Check the master credentials (REDIS_MASTER_USER/REDIS_MASTER_PASSWORD).'),
  NABOOM_ACL_DRIFT: def(500, 'The live ACL differs from the desired rules', 'Run `naboom acl apply`.', 1),
  NABOOM_ROTATE_FAILED: def(500, 'Password rotation failed', 'Nothing was removed; the old password still works. Read the message and retry.'),
  NABOOM_VERIFY_FAILED: def(500, 'Verification failed', 'Read the failed checks and their hints above.', 1),
  // HTTP API
  NABOOM_BAD_REQUEST: def(400, 'The request is invalid', ''),
  NABOOM_VALIDATION: def(400, 'The request body or query is invalid', ''),
  NABOOM_UNAUTHENTICATED: def(401, 'Authentication required', ''),
  NABOOM_BAD_CREDENTIALS: def(401, 'Invalid username or password', ''),
  NABOOM_FORBIDDEN: def(403, 'You are not allowed to do this', ''),
  NABOOM_FORBIDDEN_ORIGIN: def(403, 'The request comes from a page of another origin; a session cookie is only accepted from this site (or ALLOWED_ORIGINS)', ''),
  NABOOM_NOT_REPORTER: def(403, "Only the alert's reporter may do this", ''),
  NABOOM_NOT_FOUND: def(404, 'Not found', ''),
  NABOOM_PUSH_DISABLED: def(404, 'Push notifications are not configured on this server (no VAPID key pair)', ''),
  NABOOM_INVALID_TRANSITION: def(409, 'The alert cannot make this transition', ''),
  NABOOM_CONFLICT: def(409, 'Conflict', ''),
  NABOOM_ALERT_CLAIMED: def(409, 'Another responder has already claimed this alert', ''),
  NABOOM_THREAD_FULL: def(409, "The alert's thread holds the most messages it may", ''),
  NABOOM_REQUEST_TIMEOUT: def(408, 'The request did not arrive in time', ''),
  NABOOM_IDEMPOTENCY_MISMATCH: def(422, 'This Idempotency-Key was already used for a different alert; use a new key for a new alert', ''),
  NABOOM_PAYLOAD_TOO_LARGE: def(413, 'The request body is too large', ''),
  NABOOM_HEADERS_TOO_LARGE: def(431, 'The request headers are too large', ''),
  NABOOM_UNSUPPORTED_MEDIA_TYPE: def(415, 'Content-Type must be application/json', ''),
  NABOOM_RATE_LIMITED: def(429, 'Too many requests', ''),
  NABOOM_NOT_REPLICATED: def(503, 'The alert was stored but not yet confirmed by a replica; retry with the same Idempotency-Key', ''),
  NABOOM_UNAVAILABLE: def(503, 'The service is temporarily unavailable', ''),
  NABOOM_INTERNAL: def(500, 'Internal server error', 'See the server log for the error id.'),
  // building blocks
  NABOOM_CHANNEL_FULL: def(503, 'The channel is full', 'The consumer is too slow or gone; the message was not stored.'),
  NABOOM_CHANNEL_NAME: def(400, 'Invalid channel or group name', ''),
  NABOOM_JOB_INVALID: def(400, 'Invalid job payload', ''),
  NABOOM_USER_EXISTS: def(409, 'The user already exists', 'Choose another name or remove the user first.'),
  NABOOM_USER_NOT_FOUND: def(404, 'No such user', 'List users with `naboom users list`.'),
  NABOOM_SHUTTING_DOWN: def(503, 'The server is shutting down', ''),
  NABOOM_SLOW_CONSUMER: def(503, 'The live client could not keep up and was disconnected; reconnect with the last id to resume', ''),
} as const satisfies Record<string, ErrorDefinition>;

type Catalogue = typeof ERRORS;

/** Codes that may be thrown: every catalogued code but the retired ones. */
export type ErrorCode = { [C in keyof Catalogue]: Catalogue[C] extends { readonly retired: true } ? never : C }[keyof Catalogue];

/** An error with a stable code from the catalogue. `details` is safe to show to the caller. */
export class NaboomError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly hint: string;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, options?: { details?: unknown; cause?: unknown; hint?: string }) {
    const entry = ERRORS[code];
    super(message ?? entry.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NaboomError';
    this.code = code;
    this.status = entry.status;
    this.hint = options?.hint ?? entry.hint;
    this.details = options?.details;
  }

  /** Exit code for the CLI. */
  get exitCode(): number {
    return ERRORS[this.code].exit;
  }
}

export const isNaboomError = (err: unknown): err is NaboomError => err instanceof NaboomError;
