/**
 * The layer table: for every folder of src/, the other folders of src/ it may import. `eslint.config.js`
 * turns it into `no-restricted-imports` rules, so `npm run lint` fails on any import the table does not
 * allow (type-only imports included). `folder` allows the whole folder; `folder/module` allows that one
 * module only. A folder's own files are always allowed. Every folder of src/ has a row (a test checks).
 *
 * Colocated tests (`*.test.ts`) are exempt: nothing imports them, so they cannot make production code depend
 * upward, and a unit test sometimes checks a lower module through the one above it (madge still fails the
 * build on a cycle through them).
 *
 * Layers, bottom up: foundation (errors, log, metrics, config, crypto) → Redis access (redis, local) →
 * building blocks (cache, sessions, channels, queue, ratelimit, verify, health, django) → domain (auth, alerts, presence) → delivery
 * (http) → entry points (cli, start). Imports point down only.
 */

const BELOW_DELIVERY = [
  'errors', 'log', 'metrics', 'config', 'crypto',
  'redis', 'local',
  'cache', 'sessions', 'channels', 'push', 'queue', 'ratelimit', 'verify', 'health',
  'auth', 'alerts', 'presence',
];

export const SRC_LAYERS = {
  // foundation
  errors: [],
  log: [],
  metrics: [],
  // The one schema of every variable, including each role's user and password variables (config/roles).
  config: ['errors'],
  // Keys are derived from SECRET_KEY entries, which config hands over as `Secret`s.
  crypto: ['config'],

  // Redis access
  redis: ['config', 'errors', 'log'],
  // Local topologies start every node with the rendered ACL file and wait for replication and Sentinel
  // discovery over admin connections, so `local/` sits on top of `redis/`, not beside `errors/`.
  local: ['config', 'errors', 'redis'],

  // building blocks; the verify round trips of cache, channels and queue report in verify's types
  cache: ['config', 'log', 'metrics', 'redis', 'verify/types'],
  sessions: ['config', 'crypto', 'redis'],
  channels: ['config', 'crypto', 'errors', 'log', 'metrics', 'redis', 'verify/types'],
  // Web Push subscriptions (app role) and sending; its payloads are derived from the alert model.
  push: ['alerts/model', 'config', 'log', 'redis'],
  // Job payloads are derived from the alert model (pure schemas, no Redis), so the two can never disagree.
  // The worker sends Web Push (push/) for alert events.
  queue: ['alerts/model', 'config', 'errors', 'log', 'metrics', 'push', 'redis', 'verify/types'],
  // Counters shared by every serve process (the HTTP layer wires them into @fastify/rate-limit).
  ratelimit: ['errors', 'redis'],
  // The `--url` round trip creates a throw-away account with the UserStore.
  verify: ['auth', 'config', 'errors', 'log', 'redis'],
  health: ['config', 'redis'],

  // domain
  auth: ['errors', 'redis'],
  // The fan-out waits with the channel layer's deque; who may see an alert is auth's rule (auth/principal).
  alerts: ['auth/principal', 'channels/waiters', 'config', 'errors', 'log', 'metrics', 'redis'],
  // Responder presence (realtime role, its ACL selector) and the dispatch policy; the dispatch info it hands
  // the alert service is the alert model's (a pure schema), and start/ wires the two together.
  presence: ['alerts/model', 'log', 'redis'],

  // The Python settings module for the original Django services, from the same key prefixes and databases.
  django: ['cache', 'config', 'errors', 'redis'],

  // delivery: nothing imports it but the entry points
  http: [...BELOW_DELIVERY],

  // entry points: `naboom serve` and `naboom worker` run the processes of start/; nothing imports cli/
  // `naboom django settings` renders the settings module of django/ (nothing else imports it).
  cli: [...BELOW_DELIVERY, 'django', 'http', 'start'],
  start: [...BELOW_DELIVERY, 'http'],
};
