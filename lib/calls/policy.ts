// Who may reach this agent (issue 16, part 2): `config set accept anyone|known|allowlist` and the
// `allow` / `block` lists. Pure functions of the state, like the machine that calls them: a
// blocked key's call requests and DMs are dropped unseen; under `known` or `allowlist` a stranger's
// are dropped too, and a stranger's call request gets a polite automatic rejection, at most once
// a day per key (never queued: the machine's replies are best effort).
import { MAX_POLICY_REPLIES } from '../limits.ts'
import { makesKnown } from '../store/peers.ts'
import type { State } from '../store/schema.ts'
import { POLICY_REPLY_EVERY_S } from '../timing.ts'
import type { Reply } from './inputs.ts'

export const ACCEPT_POLICIES = ['anyone', 'known', 'allowlist'] as const
export type AcceptPolicy = (typeof ACCEPT_POLICIES)[number]

export interface Policy {
  accept: AcceptPolicy
  /** the owner's hex key: always allowed */
  owner?: string
}

export const POLICY_REJECT_REASON =
  'this agent takes calls only from agents it knows; ask its owner to allow you (this answer is sent at most once a day)'

export const isBlocked = (state: State, key: string): boolean => state.blocked?.[key] !== undefined
export const isAllowed = (state: State, key: string): boolean => state.allowed?.[key] !== undefined

/** Known: allowed, called by us, or in a call with us (one that was answered). */
export function isKnown(state: State, key: string): boolean {
  return isAllowed(state, key) || Object.values(state.calls).some((c) => c.peer === key && makesKnown(c))
}

/** May this key's call requests and DMs reach us under the policy (blocking aside)? */
export function mayReach(state: State, key: string, policy: Policy): boolean {
  if (key === policy.owner || policy.accept === 'anyone') return true
  return policy.accept === 'allowlist' ? isAllowed(state, key) : isKnown(state, key)
}

/** What to do with a call request or DM from `from`: null to take it, else why it is dropped and
 *  the automatic answer to send, if any (a call request refused by policy, once a day per key). */
export function screen(
  state: State,
  from: string,
  msg: { type: string; callId?: string },
  now: number,
  policy: Policy,
): { why: string; reply?: Reply } | null {
  if (isBlocked(state, from) && from !== policy.owner) return { why: 'blocked (dropped unseen)' }
  if (mayReach(state, from, policy)) return null
  const why = `refused by the accept policy (${policy.accept})`
  if (msg.type !== 'call-request' || msg.callId === undefined || !noteReply(state, from, now)) return { why }
  return { why: `${why}: told so`, reply: { peer: from, msg: { type: 'call-reject', callId: msg.callId, reason: POLICY_REJECT_REASON } } }
}

/** Records an automatic answer to `key` unless one went within the day; false when it did, or
 *  when too many keys were answered within the day (a flood of new keys goes unanswered). Old
 *  entries are pruned only when the memory is full: a flood costs one pass, not one per request. */
function noteReply(state: State, key: string, now: number): boolean {
  state.policyReplies ??= {}
  const replies = state.policyReplies
  const last = replies[key]
  if (last !== undefined && last > now - POLICY_REPLY_EVERY_S) return false
  if (last === undefined && Object.keys(replies).length >= MAX_POLICY_REPLIES) {
    for (const [k, at] of Object.entries(replies)) if (at <= now - POLICY_REPLY_EVERY_S) delete replies[k]
    if (Object.keys(replies).length >= MAX_POLICY_REPLIES) return false
  }
  replies[key] = now
  return true
}
