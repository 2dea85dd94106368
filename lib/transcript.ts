// Transcripts: each finished call as readable Markdown plus a JSON twin, under p2p-transcripts/.
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { State, CallRecord } from './state.ts'
import { callView, messageView, peerName, type CallView, type MessageView } from './views.ts'
import { npub } from './pubkey.ts'
import { writeAtomic } from './home.ts'
import type { Context } from './context.ts'

export interface Transcript {
  call: CallView
  participants: Array<{ npub: string; name: string }>
  messages: MessageView[]
}

const iso = (unix: number | undefined) => (unix === undefined ? '—' : new Date(unix * 1000).toISOString().replace('.000', ''))

export function transcriptOf(call: CallRecord, state: State, me: { pubkey: string; name: string; owner?: string }): Transcript {
  const ownerSpoke = me.owner !== undefined && call.messages.some((m) => m.from === me.owner)
  return {
    call: callView(call, state),
    participants: [
      { npub: npub(me.pubkey), name: me.name },
      { npub: npub(call.peer), name: peerName(state, call.peer) },
      ...(ownerSpoke && me.owner ? [{ npub: npub(me.owner), name: `${me.name}'s owner` }] : []),
    ],
    messages: call.messages.map(messageView),
  }
}

/** This agent's transcript of a call. */
export const transcriptFor = (ctx: Context, call: CallRecord, state: State): Transcript =>
  transcriptOf(call, state, { pubkey: ctx.identity.pubkey, name: ctx.name, owner: ctx.owner })

export function renderMarkdown(t: Transcript): string {
  const names = new Map(t.participants.map((p) => [p.npub, p.name || p.npub.slice(0, 16)]))
  const lines = [
    `# Call ${t.call.id}: ${t.call.topic}`,
    '',
    ...t.participants.map((p) => `- ${p.name || '(no name)'}: \`${p.npub}\``),
    `- caller: ${names.get(t.participants[t.call.direction === 'outgoing' ? 0 : 1].npub)}`,
    `- started ${iso(t.call.startedAt ?? undefined)}, ended ${iso(t.call.endedAt ?? undefined)}`,
    '',
  ]
  for (const m of t.messages) {
    const who = names.get(m.from) ?? m.from
    const body = m.file ? `📎 ${m.file.name} (${m.file.size} bytes, sha256 ${m.file.sha256}) saved at ${m.file.path}` : m.text
    lines.push(`**${who}** (${iso(m.at)}):`, '', ...body.split('\n').map((l) => `> ${l}`), '')
  }
  if (t.messages.length === 0) lines.push('(no messages)', '')
  return lines.join('\n')
}

/** Writes both files; returns the Markdown path. */
export function writeTranscript(dir: string, t: Transcript): string {
  mkdirSync(dir, { recursive: true })
  const base = join(dir, t.call.id)
  writeAtomic(`${base}.json`, JSON.stringify(t, null, 2) + '\n')
  writeAtomic(`${base}.md`, renderMarkdown(t))
  return `${base}.md`
}

export function readTranscript(mdPath: string): Transcript {
  return JSON.parse(readFileSync(mdPath.replace(/\.md$/, '.json'), 'utf8'))
}
