import { describe, expect, it } from 'vitest';
import { checkChannel, checkGroup, checkPrefix, groupLabel, isLocalChannel, newProcessId, ownerOf } from './names.js';

describe('channel names', () => {
  it('accepts Django Channels names and refuses anything that could reach a key unsafely', () => {
    for (const ok of ['chat', 'chat.lobby', 'a-b_c.9', 'x'.repeat(100), `specific.${'a'.repeat(16)}!abc`]) expect(checkChannel(ok)).toBe(ok);
    for (const bad of ['', 'a b', 'a:b', 'a*', 'x'.repeat(101), 'a!b!c', '!a', 'a!', '{x}', 'ä', 5, undefined]) {
      expect(() => checkChannel(bad), String(bad)).toThrow(expect.objectContaining({ code: 'NABOOM_CHANNEL_NAME' }));
    }
    expect(checkGroup('alerts.high')).toBe('alerts.high');
    for (const bad of ['', 'a!b', 'a:b', 'x'.repeat(101)]) expect(() => checkGroup(bad)).toThrow(expect.objectContaining({ code: 'NABOOM_CHANNEL_NAME' }));
    expect(() => checkPrefix('x'.repeat(84))).toThrow(expect.objectContaining({ code: 'NABOOM_CHANNEL_NAME' }));
  });

  it('finds the owning process of a local channel made by newChannel()', () => {
    const pid = newProcessId();
    expect(pid).toMatch(/^[0-9a-f]{16}$/);
    expect(ownerOf(`websocket.conn.${pid}!xyz`)).toBe(pid);
    expect(isLocalChannel(`specific.${pid}!xyz`)).toBe(true);
    expect(isLocalChannel('chat')).toBe(false);
    for (const bad of ['foo!bar', 'chat', `specific.${pid.slice(1)}!x`]) expect(() => ownerOf(bad)).toThrow(expect.objectContaining({ code: 'NABOOM_CHANNEL_NAME' }));
  });
});

describe('group metric label', () => {
  it('folds per-user groups into one series', () => {
    expect(groupLabel('alerts.reporter.u_123')).toBe('alerts.reporter.*');
    expect(groupLabel('alerts.high')).toBe('alerts.high');
    expect(groupLabel('busy')).toBe('busy');
  });
});
