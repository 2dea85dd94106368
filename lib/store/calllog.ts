// Each call's messages live in a file of their own, one JSON line per entry, appended in the
// order this agent took them: the state file holds only the call's header, so its size and every run's cost do
// not grow with history. The state machine queues new entries in `state.newEntries`; the store
// appends them under the lock before it writes the state, and the state counts the bytes of the
// log it commits (`logBytes`). A run killed between the two leaves lines the state does not
// count: they are not read, and the next append cuts them off, so a message whose `send` was
// killed before it was queued never shows as sent. A line torn by a kill is skipped too.
import { appendFileSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import type { State, TranscriptEntry } from './schema.ts'

export class CallLog {
  constructor(private readonly dir: string) {}

  /** Appends the entries the change queued, and forgets them from the state. */
  flush(state: State): void {
    const queued = Object.entries(state.newEntries ?? {})
    delete state.newEntries
    if (queued.length === 0) return
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    for (const [callId, entries] of queued) {
      if (!entries.length) continue
      const file = this.file(callId)
      const call = state.calls[callId]
      const size = sizeOf(file)
      // what the state counts: all of it for a call logged before the count was kept
      const committed = Math.min(size, call?.logBytes ?? (call && call.messageCount > entries.length ? size : 0))
      if (size > committed) truncateSync(file, committed)
      const lines = entries.map((e) => `\n${JSON.stringify(e)}`).join('')
      appendFileSync(file, lines)
      if (call) call.logBytes = committed + Buffer.byteLength(lines)
    }
  }

  /** Every entry of a call, once each, in causal order: the order this agent took them in
   *  (what it received before it answered comes first, whatever the clocks say), except that
   *  each sender's own entries keep the order they were sent in (a late delivery takes the
   *  place of the sender's next entry), so both sides agree on what each of them said. */
  entries(state: State, callId: string): TranscriptEntry[] {
    const all = [...this.read(callId, state.calls[callId]?.logBytes), ...(state.newEntries?.[callId] ?? [])]
    const ids = new Set<string>()
    const taken = all.filter((e) => !ids.has(e.id) && ids.add(e.id))
    const bySender = new Map<string, TranscriptEntry[]>()
    for (const e of taken) {
      const own = bySender.get(e.from)
      if (own) own.push(e)
      else bySender.set(e.from, [e])
    }
    for (const own of bySender.values()) own.sort((a, b) => a.at - b.at || (a.ms ?? 0) - (b.ms ?? 0))
    // each sender's slots, in the order taken, filled with that sender's entries in sent order
    return taken.map((e) => bySender.get(e.from)?.shift() as TranscriptEntry)
  }

  /** Forgets a call's entries (its transcript holds them). */
  remove(callId: string): void {
    rmSync(this.file(callId), { force: true })
  }

  /** The entries in the first `bytes` of the log (all of it when the state keeps no count). */
  private read(callId: string, bytes?: number): TranscriptEntry[] {
    let text: string
    try {
      const data = readFileSync(this.file(callId))
      text = data.subarray(0, bytes ?? data.length).toString('utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const entries: TranscriptEntry[] = []
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        const entry = JSON.parse(line)
        if (isEntry(entry)) entries.push(entry)
      } catch {
        // a line torn by a kill: its entry is appended again by the run that retries it
      }
    }
    return entries
  }

  /** Call ids are hex (checked on the wire and by `history`): never a path. */
  private file(callId: string): string {
    return join(this.dir, `${callId}.jsonl`)
  }
}

const isEntry = (e: unknown): e is TranscriptEntry =>
  typeof e === 'object' &&
  e !== null &&
  typeof (e as TranscriptEntry).id === 'string' &&
  typeof (e as TranscriptEntry).from === 'string' &&
  typeof (e as TranscriptEntry).at === 'number' &&
  typeof (e as TranscriptEntry).text === 'string'

function sizeOf(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}
