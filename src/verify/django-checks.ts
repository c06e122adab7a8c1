/**
 * verify's Django section (DJANGO_COMPAT): every command each original library sends (the one table in
 * src/redis/django.ts) is allowed for the role it runs as, checked with `ACL DRYRUN` as the master role so
 * nothing is written; the operations that must stay refused are refused; the other roles cannot reach
 * Celery's keys or channels; and the app role really writes, reads and publishes under `naboom:celery:`.
 * verify's own negative matrix runs unchanged beside it.
 */
import { randomBytes } from 'node:crypto';
import { DJANGO_REFUSED, djangoCalls } from '../redis/django.js';
import { DJANGO_PREFIXES, djangoKeySpace, type NamespaceOwner } from '../redis/keys.js';
import type { CheckResult, VerifyContext } from './types.js';

const SECTION = 'django';

async function dryRun(ctx: VerifyContext, role: NamespaceOwner, args: readonly string[]): Promise<string> {
  return String(await ctx.admin.call('ACL', 'DRYRUN', ctx.config.credentials[role].username, ...args));
}

const show = (args: readonly string[]): string => args.slice(0, 2).join(' ');

/** The Django profile's checks; `naboom verify` runs them when DJANGO_COMPAT is set. */
export async function djangoChecks(ctx: VerifyContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const user = (role: NamespaceOwner): string => ctx.config.credentials[role].username;

  for (const call of djangoCalls()) {
    const denied: string[] = [];
    for (const args of call.commands) {
      const reply = await dryRun(ctx, call.role, args);
      if (reply !== 'OK') denied.push(`${show(args)}: ${reply}`);
    }
    out.push({
      section: SECTION,
      role: call.role,
      name: `${call.library} ${call.call} as ${user(call.role)}`,
      status: denied.length === 0 ? 'pass' : 'fail',
      detail: denied.length === 0 ? `${call.commands.length} commands allowed (ACL DRYRUN)` : denied.join('; '),
      hint: denied.length === 0 ? undefined : 'The Django profile is missing from the live ACL: with DJANGO_COMPAT=true run `naboom acl apply`.',
    });
  }

  for (const r of DJANGO_REFUSED) {
    const reply = await dryRun(ctx, r.role, r.args);
    out.push({
      section: SECTION,
      role: r.role,
      name: `refuses ${r.call} (${show(r.args)})`,
      status: reply === 'OK' ? 'fail' : 'pass',
      detail: reply === 'OK' ? `${show(r.args)} would be ALLOWED (ACL DRYRUN)` : `denied; instead: ${r.instead}`,
      hint: reply === 'OK' ? 'A role holds a grant the Django profile never adds: run `naboom acl apply` and check who changed the ACL.' : undefined,
    });
  }

  const celeryKey = djangoKeySpace().celery('verify-probe');
  for (const other of ['websocket', 'realtime'] as const) {
    const probes = [['GET', celeryKey], ['SET', celeryKey, 'x'], ['SUBSCRIBE', celeryKey], ['GET', DJANGO_PREFIXES.celeryUnwatched]];
    const allowed: string[] = [];
    for (const args of probes) if ((await dryRun(ctx, other, args)) === 'OK') allowed.push(show(args));
    out.push({
      section: SECTION,
      role: other,
      name: `cannot touch Celery's ~${DJANGO_PREFIXES.celery}* / &${DJANGO_PREFIXES.celery}*`,
      status: allowed.length === 0 ? 'pass' : 'fail',
      detail: allowed.length === 0 ? 'GET, SET, SUBSCRIBE → denied (ACL DRYRUN)' : `ALLOWED: ${allowed.join(', ')}`,
      hint: allowed.length === 0 ? undefined : 'Key patterns overlap between roles: run `naboom acl apply`.',
    });
  }

  const app = ctx.clients.get('app');
  if (app) {
    const key = djangoKeySpace().probe('app', randomBytes(6).toString('hex'));
    let detail = 'SETEX, GET, PUBLISH, DEL ok';
    let ok = true;
    try {
      await app.call('SETEX', key, '30', 'ok');
      ok = (await app.call('GET', key)) === 'ok';
      await app.call('PUBLISH', key, 'verify');
      await app.call('DEL', key);
      if (!ok) detail = 'GET did not return what SETEX stored';
    } catch (err) {
      ok = false;
      detail = (err as Error).message;
    }
    out.push({
      section: SECTION,
      role: 'app',
      name: `Celery's broker and results: write, read and publish under ${DJANGO_PREFIXES.celery}`,
      status: ok ? 'pass' : 'fail',
      detail,
      hint: ok ? undefined : 'With DJANGO_COMPAT=true run `naboom acl apply`.',
    });
  }
  return out;
}
