// Each call's messages live in a file of their own, one JSON line per entry, appended in the
// order this agent took them: the state file holds only the call's header, so its size and every run's cost do
// not grow with history. The state machine queues new entries in `state.newEntries`; the store
// appends them under the lock before it writes the state, and the state counts the bytes of the
// log it commits (`logBytes`). A run killed between the two leaves lines the state does not
// count: they are not read, and the next append cuts them off, so a message whose `send` was
// killed before it was queued never shows as sent. A line torn by a kill is skipped too.
// A log is never opened through a link, nor its folder through one that leads out of the home.
import { appendFileSync, closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { type HomePaths, linkRefused, ownDir } from './home.ts'
import type { CallRecord, State, TranscriptEntry } from './schema.ts'

export class CallLog {
  constructor(private readonly paths: Pick<HomePaths, 'dir' | 'calls'>) {}

  /** Appends the entries the change queued, and forgets them from the state. */
  flush(state: State): void {
    const queued = Object.entries(state.newEntries ?? {})
    delete state.newEntries
    if (queued.length === 0) return
    ownDir(this.paths.dir, this.paths.calls)
    for (const [callId, entries] of queued) {
      if (!entries.length) continue
      const call = state.calls[callId]
      const fd = this.open(callId, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT)
      try {
        const { size } = fstatSync(fd)
        const committed = committedBytes(call, size, entries.length)
        if (size > committed) ftruncateSync(fd, committed)
        const lines = entries.map((e) => `\n${JSON.stringify(e)}`).join('')
        appendFileSync(fd, lines)
        if (call) call.logBytes = committed + Buffer.byteLength(lines)
      } finally {
        closeSync(fd)
      }
    }
  }

  /** Every entry of a call, once each, in causal order: the order this agent took them in
   *  (what it received before it answered comes first, whatever the clocks say), except that
   *  each sender's own entries keep the order they were sent in (a late delivery takes the
   *  place of the sender's next entry), so both sides agree on what each of them said. */
  entries(state: State, callId: string): TranscriptEntry[] {
    const pending = state.newEntries?.[callId] ?? []
    const all = [...this.read(callId, (size) => committedBytes(state.calls[callId], size, pending.length)), ...pending]
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
    rmSync(join(ownDir(this.paths.dir, this.paths.calls), `${callId}.jsonl`), { force: true })
  }

  /** The entries in the part of the log the state counts (`counted` of the file's size). */
  private read(callId: string, counted: (size: number) => number): TranscriptEntry[] {
    let data: Buffer
    try {
      const fd = this.open(callId, constants.O_RDONLY)
      try {
        data = readFileSync(fd)
      } finally {
        closeSync(fd)
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const text = data.subarray(0, counted(data.length)).toString('utf8')
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

  /** Call ids are hex (checked on the wire and by `history`): never a path. The file itself is
   *  never a link (one put there would have us read, cut and write another file). */
  private open(callId: string, flags: number): number {
    const file = join(this.paths.calls, `${callId}.jsonl`)
    try {
      return openSync(file, flags | constants.O_NOFOLLOW, 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOOP') throw err
      throw linkRefused(file, 'stands for a call log', `rm ${file}`)
    }
  }
}

/** The bytes of a call's log its state counts (`pending`: entries the state has not logged
 *  yet, already in its message count). A call with no count yet counts none: the first line of a
 *  run killed before it saved the state is not the call's; a call logged before the count was
 *  kept counts all of it. */
function committedBytes(call: CallRecord | undefined, size: number, pending: number): number {
  return Math.min(size, call?.logBytes ?? (call && call.messageCount > pending ? size : 0))
}

const isEntry = (e: unknown): e is TranscriptEntry =>
  typeof e === 'object' &&
  e !== null &&
  typeof (e as TranscriptEntry).id === 'string' &&
  typeof (e as TranscriptEntry).from === 'string' &&
  typeof (e as TranscriptEntry).at === 'number' &&
  typeof (e as TranscriptEntry).text === 'string'
