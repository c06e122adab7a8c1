/**
 * The push services push endpoints may point at (PUSH_SERVICE_HOSTS): the worker POSTs to every endpoint a
 * responder registers, so the list bounds where a responder's account can make it send requests.
 */

/**
 * The browsers' push services (PUSH_SERVICE_HOSTS' default): Chrome, Edge on Android, Samsung Internet and
 * Opera use FCM; Firefox Mozilla's autopush; Edge on Windows WNS; Safari Apple's. `*.` is any subdomain.
 */
export const DEFAULT_PUSH_SERVICE_HOSTS = ['fcm.googleapis.com', '*.push.services.mozilla.com', '*.notify.windows.com', '*.push.apple.com'] as const;

/** A PUSH_SERVICE_HOSTS entry: a host name (`*.` for any subdomain), an IPv4 address or a bracketed IPv6 one. */
export const PUSH_HOST_ENTRY = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/;

