// A call's transcript: its entries, added once each (addEntry; the store keeps them in the
// call's log), and the transcript as the contract shows it: the call, who took part, every
// message. Written to disk as Markdown and JSON by the session (session/transcripts.ts).
import { npub } from '../nostr/keys.ts'
import type { CallRecord, State, TranscriptEntry } from '../store/schema.ts'
import { type CallView, callView, type MessageView, messageView, peerName } from './views.ts'

export interface Transcript {
  call: CallView
  participants: Array<{ npub: string; name: string }>
  messages: MessageView[]
  /** the call's life: who asked for it (absent in transcripts written before it was kept; the
   *  time is the call's createdAt, our clock's when the request came in), who accepted it and
   *  who ended it (npubs), when known */
  requestedBy?: string
  acceptedBy: string | null
  endedBy: string | null
}

/** `entries`: the call's entries in order (the store's call log). */
export function transcriptOf(
  call: CallRecord,
  entries: TranscriptEntry[],
  state: State,
  me: { pubkey: string; name: string; owner?: string },
): Transcript {
  const ownerSpoke = me.owner !== undefined && entries.some((m) => m.from === me.owner)
  return {
    call: callView(call, state),
    participants: [
      { npub: npub(me.pubkey), name: me.name },
      { npub: npub(call.peer), name: peerName(state, call.peer) },
      ...(ownerSpoke && me.owner ? [{ npub: npub(me.owner), name: `${me.name}'s owner` }] : []),
    ],
    messages: entries.map(messageView),
    requestedBy: npub(call.direction === 'outgoing' ? me.pubkey : call.peer),
    acceptedBy: call.startedAt === undefined ? null : npub(call.direction === 'outgoing' ? call.peer : me.pubkey),
    endedBy: call.endedBy ? npub(call.endedBy) : null,
  }
}

/** Adds an entry to a call once (by id); false when it was taken before. The call was spoken
 *  in now, either way: its idle timeout starts again (calls/timeouts.ts). */
export function addEntry(state: State, call: CallRecord, entry: TranscriptEntry, now: number): boolean {
  if (!state.rumorIds.add(entry.id, now)) return false
  appendEntry(state, call, entry)
  call.updatedAt = now
  return true
}

/** Adds an entry already known to be new (its id was taken by the caller). O(1): the store
 *  appends it to the call's log, which is read in time order. */
export function appendEntry(state: State, call: CallRecord, entry: TranscriptEntry): void {
  state.newEntries ??= {}
  state.newEntries[call.id] ??= []
  state.newEntries[call.id].push(entry)
  call.messageCount++
  if (entry.escalation) call.escalations = (call.escalations ?? 0) + 1
}
