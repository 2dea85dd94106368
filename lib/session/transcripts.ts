// Transcripts on disk: each finished call as readable Markdown plus a JSON twin, under
// p2p-transcripts/ in the home.
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Transcript, transcriptOf } from '../calls/transcript.ts'
import { writeAtomic } from '../store/home.ts'
import type { CallRecord, State } from '../store/schema.ts'
import { renderMarkdown } from '../ui/render.ts'
import type { Context } from './context.ts'

/** This agent's transcript of a call. */
export const transcriptFor = (ctx: Context, call: CallRecord, state: State): Transcript =>
  transcriptOf(call, state, { pubkey: ctx.identity.pubkey, name: ctx.name, owner: ctx.ownerPubkey })

/** Writes the call's transcript (both files) and records where; returns the Markdown path. */
export function saveTranscript(ctx: Context, state: State, callId: string): string {
  const call = state.calls[callId]
  call.transcript = writeTranscript(ctx.paths.transcripts, transcriptFor(ctx, call, state))
  return call.transcript
}

function writeTranscript(dir: string, t: Transcript): string {
  mkdirSync(dir, { recursive: true })
  const base = join(dir, t.call.id)
  writeAtomic(`${base}.json`, `${JSON.stringify(t, null, 2)}\n`)
  writeAtomic(`${base}.md`, renderMarkdown(t))
  return `${base}.md`
}

export function readTranscript(mdPath: string): Transcript {
  return JSON.parse(readFileSync(mdPath.replace(/\.md$/, '.json'), 'utf8'))
}
