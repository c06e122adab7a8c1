/** Who is asking (an authenticated account) and the authorisation rules that depend only on who it is. */

export const USER_ROLES = ['member', 'responder', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface Principal {
  readonly id: string;
  readonly username: string;
  readonly role: UserRole;
}

/** Responders and admins see every alert; members only their own. */
export const canSeeAll = (p: Principal): boolean => p.role === 'responder' || p.role === 'admin';

/** May this principal see this alert (or anything else reported by someone)? */
export const canSee = (p: Principal, a: { readonly reporter: { readonly id: string } }): boolean => canSeeAll(p) || a.reporter.id === p.id;
