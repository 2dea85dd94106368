// Which keys this agent knows, as opposed to strangers (any key can call us): a key we called,
// were in an answered call with, or allowed. The accept policy lets them in (calls/policy.ts),
// their names and announcements are kept whatever strangers announce, and the presence of the
// peers of our calls is asked for by key.
import type { CallRecord, State } from './schema.ts'

/** A call that makes its peer known: one we placed, or one that was answered. */
export const makesKnown = (call: CallRecord): boolean => call.direction === 'outgoing' || call.startedAt !== undefined

/** Every key this agent knows. */
export function knownKeys(state: State): Set<string> {
  const keys = new Set(Object.keys(state.allowed ?? {}))
  for (const call of Object.values(state.calls)) if (makesKnown(call)) keys.add(call.peer)
  return keys
}
