// Plain-text rendering of events, calls and transcripts. Peers' words are stripped of terminal
// control sequences and fenced, so that an agent reading stdout cannot mistake them for ours.
import type { Transcript } from '../calls/transcript.ts'
import type { CallView } from '../calls/views.ts'
import { sanitize } from '../sanitize.ts'
import type { P2PEvent } from '../store/schema.ts'
import { unixNow } from '../timing.ts'
import { ago } from './format.ts'

/** A peer's words, fenced: every line behind "│ ". */
const fence = (text: string): string[] =>
  sanitize(text)
    .split('\n')
    .map((line) => `  │ ${line}`)

const who = (npub: string, names: Map<string, string>) => {
  const name = names.get(npub)
  return name ? `${sanitize(name)} (${npub.slice(0, 12)}…)` : `${npub.slice(0, 16)}…`
}

export function renderEvent(e: P2PEvent, names: Map<string, string>, now: number): string[] {
  const from = who(e.from, names)
  const when = ago(e.at, now)
  switch (e.type) {
    case 'call-request':
      return [
        `📞 call request ${e.callId} from ${from}, ${when}, topic:`,
        ...fence(e.topic ?? ''),
        `  → node p2p.js answer accept --call ${e.callId}   (or: answer reject "<reason>" --call ${e.callId})`,
      ]
    case 'call-accepted':
      return [`✅ call ${e.callId} accepted by ${from}, ${when}  → node p2p.js send "<message>"`]
    case 'call-rejected':
      return e.expired
        ? [`⌛ call ${e.callId} to ${from} expired: ${e.reason}`]
        : [`❌ call ${e.callId} declined by ${from}, ${when}, reason:`, ...fence(e.reason || '(none given)')]
    case 'message':
      return [`💬 ${from} in call ${e.callId}, ${when}:`, ...fence(e.text ?? '')]
    case 'file': {
      const file = e.file && 'path' in e.file ? e.file : undefined
      return [
        `📎 ${from} sent a file in call ${e.callId}, ${when}: ${sanitize(file?.name ?? '')} (${file?.size} bytes), saved at ${file?.path}`,
      ]
    }
    case 'call-ended':
      return [`👋 call ${e.callId} ended by ${from}, ${when}  → transcript: node p2p.js history ${e.callId}`]
    case 'escalation':
      return [`🙋 ${from} escalated call ${e.callId} to a human, ${when}:`, ...fence(e.reason ?? '')]
    case 'owner-message': {
      const answers = e.escalationId ? ` (on escalation ${e.escalationId.slice(0, 8)})` : ''
      const gone = e.expiresAt ? `; disappears at ${new Date(e.expiresAt * 1000).toISOString().slice(11, 16)} UTC` : ''
      if (e.kind === 7) return [`👤 your owner ${from} reacted ${sanitize(e.text ?? '')}${answers}, ${when}${gone}`]
      if (e.file && 'url' in e.file) {
        const f = e.file
        const how = f.encryption ? `encrypted (${sanitize(f.encryption.algorithm)}; key and nonce in --json)` : 'not encrypted'
        return [
          `👤 your owner ${from} sent a file${answers}, ${when}${gone}: ${sanitize(f.url)} (${sanitize(f.type)}${f.size !== undefined ? `, ${f.size} bytes` : ''}, ${how})`,
        ]
      }
      const share = e.callId && e.id ? [`  → show it to the peer, who can check it: node p2p.js share ${e.id}`] : []
      return [`👤 your owner ${from} wrote${answers}, ${when}${gone}${e.id ? ` (message ${e.id})` : ''}:`, ...fence(e.text ?? ''), ...share]
    }
    case 'owner-proof': {
      // whole: the reader compares it with the npub it knows for the peer's owner
      const sent = e.sentAt ? `, written ${ago(e.sentAt, now)}` : ''
      const head = e.verified
        ? `🔏 ${from} showed a message of its owner ${e.owner ?? ''} in call ${e.callId}, verified (signed by that key${sent}):`
        : `⚠️  ${from} showed a message it says is its owner's, NOT verified (${sanitize(e.reason ?? '')}):`
      const answers = e.question ? ['  answering the question:', ...fence(e.question)] : []
      return [head, ...fence(e.text ?? ''), ...answers]
    }
    case 'direct-message':
      return [`✉️  direct message from ${from}, ${when} (not in a call):`, ...fence(e.text ?? '')]
  }
}

/** A call's state, and that it is held over NIP-04 when it is (config legacy on). */
const stateOf = (call: CallView) => (call.legacy ? `${call.state}, NIP-04` : call.state)

export function describeCall(call: CallView | null): string {
  if (!call) return 'none'
  const peer = call.peer.name ? `${sanitize(call.peer.name)} (${call.peer.npub.slice(0, 12)}…)` : call.peer.npub
  return `${call.id} ${call.direction === 'outgoing' ? 'to' : 'from'} ${peer}: "${sanitize(call.topic)}" (${stateOf(call)})`
}

export function renderTranscript(t: Transcript, path: string | null): string[] {
  const names = new Map(t.participants.map((p) => [p.npub, p.name]))
  const clock = (at: number) => new Date(at * 1000).toISOString().slice(11, 19)
  const lines = [`call ${t.call.id}: "${sanitize(t.call.topic)}" (${stateOf(t.call)})`]
  if (t.requestedBy) lines.push(`— requested by ${who(t.requestedBy, names)}, ${clock(t.call.createdAt)}`)
  if (t.acceptedBy && t.call.startedAt !== null) lines.push(`— accepted by ${who(t.acceptedBy, names)}, ${clock(t.call.startedAt)}`)
  for (const m of t.messages) {
    const label = `${who(m.from, names)}, ${clock(m.at)}`
    lines.push(
      m.file ? `📎 ${label}: ${sanitize(m.file.name)} (${m.file.size} bytes) at ${m.file.path}` : `${label}:`,
      ...(m.file ? [] : fence(m.text)),
    )
  }
  if (t.messages.length === 0) lines.push('(no messages)')
  if (t.endedBy && t.call.endedAt !== null) lines.push(`— ended by ${who(t.endedBy, names)}, ${clock(t.call.endedAt)}`)
  if (path) lines.push(`transcript: ${path}`)
  return lines
}

const iso = (unix: number | undefined) => (unix === undefined ? '—' : new Date(unix * 1000).toISOString().replace('.000', ''))

/** The Markdown transcript kept on disk beside its JSON twin. */
export function renderMarkdown(t: Transcript): string {
  const names = new Map(t.participants.map((p) => [p.npub, p.name || p.npub.slice(0, 16)]))
  const lines = [
    `# Call ${t.call.id}: ${t.call.topic}`,
    '',
    ...t.participants.map((p) => `- ${p.name || '(no name)'}: \`${p.npub}\``),
    ...(t.requestedBy ? [`- requested by ${names.get(t.requestedBy) ?? t.requestedBy} ${iso(t.call.createdAt)}`] : []),
    `- accepted ${t.acceptedBy ? `by ${names.get(t.acceptedBy) ?? t.acceptedBy} ` : ''}${iso(t.call.startedAt ?? undefined)}`,
    `- ended ${t.endedBy ? `by ${names.get(t.endedBy) ?? t.endedBy} ` : ''}${iso(t.call.endedAt ?? undefined)}`,
    ...(t.call.legacy ? ['- held over NIP-04 with an agent of the original skill (relays saw who talked to whom, and when)'] : []),
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

type Visibility = { name: string; relays: string[]; visibleUntil: number | null }

/** Where this agent's announcement is visible (status, whoami), and what keeps it so. */
export function visibleLine(p: Visibility, now = unixNow()): string {
  if (p.visibleUntil === null) return 'not announced (any online command announces it, e.g. `node p2p.js status`)'
  return `${seenAs(p, now)}; any online command renews it (\`node p2p.js poll\` from cron every few minutes)`
}

/** Renamed, and the new name not announced yet: what others see meanwhile. */
export function renamedLine(name: string, old: Visibility, now = unixNow()): string {
  return `not yet as "${sanitize(name)}": still ${seenAs(old, now)}; the new name goes out with the next online command (e.g. \`node p2p.js status\`), which withdraws the old one`
}

const seenAs = (p: Visibility, now: number) =>
  `as "${sanitize(p.name)}" on ${p.relays.length} relay${p.relays.length === 1 ? '' : 's'} for ${Math.max(1, Math.round(((p.visibleUntil ?? now) - now) / 60))} more min`
