// Reading a state file: parsing, checking and migrating it (schema.ts holds its shape).
// Whatever we ever wrote becomes a State; anything else is CorruptState, which the store moves
// aside; an entry of the wrong shape goes alone.
import { P2PError } from '../errors.ts'
import { unixNow } from '../timing.ts'
import { KnownIds } from './known-ids.ts'
import { type CallRecord, emptyState, STATE_VERSION, type State, type TranscriptEntry } from './schema.ts'

/** Not one of our state files: moved aside by the store, never thrown further. */
export class CorruptState extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Parses and migrates a state document; throws CorruptState when it is not one of ours. */
export function parseState(text: string): State {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new CorruptState('not valid JSON')
  }
  if (!isRecord(doc) || typeof doc.version !== 'number') throw new CorruptState('no schema version')
  if (doc.version > STATE_VERSION) {
    throw new P2PError(
      'state-too-new',
      `the state file was written by a newer p2p-comm (schema ${doc.version}, this one reads ${STATE_VERSION})`,
      'state',
      'upgrade p2p-comm (`git pull && npm ci`), or point P2P_HOME elsewhere',
    )
  }
  const base = emptyState()
  const objects = [
    'cursor',
    'agents',
    'inboxes',
    'calls',
    'dmIds',
    'rumorIds',
    'earlyEnds',
    'giftWrapCursors',
    'seen',
    'relayHealth',
  ] as const
  for (const key of objects) {
    if (doc[key] !== undefined && !isRecord(doc[key])) throw new CorruptState(`${key} is not an object`)
  }
  for (const key of ['journal', 'outbox', 'escalations', 'printed', 'printLeases', 'ownerMessages'] as const) {
    if (doc[key] !== undefined && !Array.isArray(doc[key])) throw new CorruptState(`${key} is not a list`)
  }
  // Migration fills in what an older writer lacked, and moves version 1's messages and version
  // 2's ids out (the ids of version 3 on are in their own file, which the store reads).
  const { dmIds, rumorIds, seen, newEntries: _neverSaved, ...rest } = doc
  const state = { ...base, ...rest, version: STATE_VERSION } as State
  state.cursor = { ...base.cursor, ...(doc.cursor as object) }
  if (doc.version < 3) {
    state.seen = KnownIds.of({ ...(seen as Record<string, number>) })
    state.rumorIds = KnownIds.of({ ...(dmIds as Record<string, number>), ...(rumorIds as Record<string, number>) })
  }
  // an entry of the wrong shape (a hand edit, a bug) goes alone, not the whole file
  state.calls = entriesLike(
    state.calls,
    (c) => typeof c.id === 'string' && typeof c.peer === 'string' && (typeof c.messageCount === 'number' || Array.isArray(c.messages)),
  )
  for (const call of Object.values(state.calls)) moveOutMessages(state, call)
  state.agents = entriesLike(state.agents, (a) => typeof a.pubkey === 'string' && typeof a.name === 'string')
  state.inboxes = entriesLike(state.inboxes, (i) => Array.isArray(i.relays))
  if (state.knownIds !== undefined && !Number.isSafeInteger(state.knownIds)) delete state.knownIds
  for (const key of ['allowed', 'blocked', 'policyReplies'] as const) {
    if (state[key] !== undefined && !isRecord(state[key])) delete state[key]
  }
  return state
}

/** Version 1 kept a call's messages in the state: they go to the call log with the next write. */
function moveOutMessages(state: State, call: CallRecord & { messages?: TranscriptEntry[] }): void {
  const { messages } = call
  if (!messages) return
  delete call.messages
  const now = unixNow()
  call.messageCount = messages.length
  state.newEntries ??= {}
  state.newEntries[call.id] = messages
  for (const m of messages) state.rumorIds.add(m.id, now)
}

function entriesLike<T>(record: Record<string, T>, valid: (value: Record<string, unknown>) => boolean): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => isRecord(v) && valid(v))) as Record<string, T>
}
