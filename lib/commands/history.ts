// `history [callId]`: past calls, or one call's transcript. Local only.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { callView } from '../calls/views.ts'
import { type CommandResult, stateError, usageError } from '../errors.ts'
import type { Context } from '../session/context.ts'
import { readTranscript, transcriptFor } from '../session/transcripts.ts'
import type { CallRecord } from '../store/schema.ts'
import { ago, table } from '../ui/format.ts'
import { describeCall, renderTranscript } from '../ui/render.ts'

export async function history(ctx: Context, callId?: string): CommandResult {
  const state = await ctx.store.read()
  if (callId === undefined) {
    const calls = Object.values(state.calls).sort((a, b) => b.createdAt - a.createdAt)
    ctx.out.result({ calls: calls.map((c) => ({ ...callView(c, state), ...counts(c), transcript: c.transcript ?? null })) }, () =>
      calls.length
        ? table(calls.map((c) => [ago(c.createdAt), describeCall(callView(c, state)), countsLine(counts(c))]))
        : ['no calls yet; start one with `node p2p.js call <agent> "<topic>"`'],
    )
    return
  }
  // a call id, nothing else: it names a key of the state and a file under the transcripts
  if (!/^[0-9a-f]{8,64}$/.test(callId))
    throw usageError('bad-call-id', `"${callId}" is not a call id`, 'see past calls with `node p2p.js history`')
  const call = Object.hasOwn(state.calls, callId) ? state.calls[callId] : undefined
  const saved = join(ctx.paths.transcripts, `${callId}.md`)
  if (!call && !existsSync(saved)) {
    throw stateError('no-such-call', `no call ${callId} is known`, 'see past calls with `node p2p.js history`')
  }
  const transcript = call ? transcriptFor(ctx, call, state) : readTranscript(saved)
  const path = call?.transcript ?? (existsSync(saved) ? saved : null)
  ctx.out.result({ call: transcript.call, transcript: { path, messages: transcript.messages } }, () => renderTranscript(transcript, path))
}

/** A call's messages (text and files, the owner's included) and escalations, counted apart. */
const counts = (c: CallRecord) => ({ messages: c.messageCount - (c.escalations ?? 0), escalations: c.escalations ?? 0 })

const countsLine = ({ messages, escalations }: ReturnType<typeof counts>) =>
  `${messages} ${messages === 1 ? 'message' : 'messages'}${escalations ? `, ${escalations} ${escalations === 1 ? 'escalation' : 'escalations'}` : ''}`
