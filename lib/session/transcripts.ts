// Transcripts on disk: each finished call as readable Markdown plus a JSON twin, under
// p2p-transcripts/ in the home.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Transcript, transcriptOf } from '../calls/transcript.ts'
import { ownDir, writeAtomic } from '../store/home.ts'
import type { CallRecord, JournalEntry, P2PEvent, State } from '../store/schema.ts'
import { renderMarkdown } from '../ui/render.ts'
import type { Context } from './context.ts'

/** This agent's transcript of a call, from its call log. */
export const transcriptFor = (ctx: Context, call: CallRecord, state: State): Transcript =>
  transcriptOf(call, ctx.store.calls.entries(state, call.id), state, {
    pubkey: ctx.identity.pubkey,
    name: ctx.name,
    owner: ctx.ownerPubkey,
  })

/** Writes the call's transcript (both files) and records where; returns the Markdown path. */
export function saveTranscript(ctx: Context, state: State, callId: string): string {
  const call = state.calls[callId]
  call.transcript = writeTranscript(ownDir(ctx.paths.dir, ctx.paths.transcripts), transcriptFor(ctx, call, state))
  return call.transcript
}

function writeTranscript(dir: string, t: Transcript): string {
  const base = join(dir, t.call.id)
  writeAtomic(`${base}.json`, `${JSON.stringify(t, null, 2)}\n`)
  writeAtomic(`${base}.md`, renderMarkdown(t))
  return `${base}.md`
}

/** The events of journal entries as printed: a message whose text the journal let go (over
 *  its byte budget) gets it back from its call log. */
export function eventsOf(ctx: Context, state: State, entries: JournalEntry[]): P2PEvent[] {
  const logs = new Map<string, Map<string, string>>()
  const textOf = (callId: string, entryId: string) => {
    if (!logs.has(callId)) logs.set(callId, new Map(ctx.store.calls.entries(state, callId).map((e) => [e.id, e.text])))
    return logs.get(callId)?.get(entryId) ?? ''
  }
  return entries.map(({ event, entryId }) =>
    event.text !== undefined || !entryId || !event.callId ? event : { ...event, text: textOf(event.callId, entryId) },
  )
}

export function readTranscript(mdPath: string): Transcript {
  return JSON.parse(readFileSync(mdPath.replace(/\.md$/, '.json'), 'utf8'))
}
