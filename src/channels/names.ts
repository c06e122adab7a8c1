/**
 * Channel and group names. Normal channels (`chat.lobby`) are Redis lists any process may receive from;
 * process-local channels (`specific.<processId>!<random>`, made by `newChannel()`) belong to one process and
 * reach it through that process's inbox. Names are checked before they get anywhere near a key.
 */
import { randomBytes } from 'node:crypto';
import { NaboomError } from '../errors/catalogue.js';

const PART = '[A-Za-z0-9_.-]{1,100}';
const CHANNEL = new RegExp(`^${PART}(!${PART})?$`);
const GROUP = new RegExp(`^${PART}$`);
const PROCESS_ID = /^[0-9a-f]{16}$/;

/** A random process id: 8 bytes of hex, unique per ChannelLayer instance. */
export const newProcessId = (): string => randomBytes(8).toString('hex');

/** A random suffix for a process-local channel. */
export const newLocalSuffix = (): string => randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9_-]/g, '_');

export const isProcessId = (v: string): boolean => PROCESS_ID.test(v);

/** Throws NABOOM_CHANNEL_NAME unless `name` is a valid channel name. */
export function checkChannel(name: unknown): string {
  if (typeof name !== 'string' || !CHANNEL.test(name)) {
    throw new NaboomError('NABOOM_CHANNEL_NAME', `Invalid channel name: ${describe(name)}`);
  }
  return name;
}

/** Throws NABOOM_CHANNEL_NAME unless `name` is a valid group name. */
export function checkGroup(name: unknown): string {
  if (typeof name !== 'string' || !GROUP.test(name)) {
    throw new NaboomError('NABOOM_CHANNEL_NAME', `Invalid group name: ${describe(name)}`);
  }
  return name;
}

/** Throws NABOOM_CHANNEL_NAME unless `prefix` can start a channel name made by `newChannel()`. */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.-]{1,83}$/.test(prefix)) {
    throw new NaboomError('NABOOM_CHANNEL_NAME', `Invalid channel prefix: ${describe(prefix)}`);
  }
  return prefix;
}

export const isLocalChannel = (name: string): boolean => name.includes('!');

/**
 * The process that owns a process-local channel: the segment after the last `.` before the `!`. A local
 * name not made by `newChannel()` has no owner we could route to, so it is refused rather than parked in an
 * inbox nobody reads.
 */
export function ownerOf(channel: string): string {
  const bang = channel.indexOf('!');
  const head = bang < 0 ? channel : channel.slice(0, bang);
  const pid = head.slice(head.lastIndexOf('.') + 1);
  if (bang < 0 || !isProcessId(pid)) {
    throw new NaboomError('NABOOM_CHANNEL_NAME', `Not a process-local channel made by newChannel(): ${channel}`);
  }
  return pid;
}

function describe(v: unknown): string {
  if (typeof v !== 'string') return typeof v;
  return v.length > 40 ? `"${v.slice(0, 40)}…"` : `"${v}"`;
}

/**
 * The metric label for a group: its first two dot-separated parts, so per-user groups such as
 * `alerts.reporter.<user id>` share one time series (`alerts.reporter.*`) instead of one per user.
 */
export function groupLabel(group: string): string {
  const parts = group.split('.');
  return parts.length <= 2 ? group : `${parts.slice(0, 2).join('.')}.*`;
}
