/**
 * The channel layer's Redis scripts (files in ./lua, run by redis/script.ts). Each one replaces several
 * channels_redis round trips with one, and makes "check capacity, then write" atomic, so two senders can
 * never both take a channel's last slot.
 */
import { defineScript } from '../redis/script.js';

export const SCRIPTS = {
  send: defineScript(new URL('./lua/send-1.lua', import.meta.url), {
    keys: ['list'],
    args: ['payload', 'capacity', 'ttl', 'now'],
  }),
  groupAdd: defineScript(new URL('./lua/group-add-N.lua', import.meta.url), {
    keys: ['members', 'inbox?'],
    args: ['member', 'now', 'groupTtl', 'control?', 'capacity?', 'ttl?'],
  }),
  groupSend: defineScript(new URL('./lua/group-send-2.lua', import.meta.url), {
    keys: ['channels', 'processes'],
    args: ['payload', 'now', 'cutoff', 'capacity', 'ttl', 'queuePrefix', 'inboxPrefix', 'sender'],
  }),
  groupLeave: defineScript(new URL('./lua/group-leave-2.lua', import.meta.url), {
    keys: ['processes', 'inbox'],
    args: ['process'],
  }),
} as const;
