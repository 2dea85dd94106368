// The state store and the call logs beside it, on a real folder: messages leave the state file,
// a run parses the file once and writes it only when something changed, a torn log line or a
// repeated append loses and duplicates nothing, and version 1 files move their messages out.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { addEntry } from '../lib/calls/transcript.ts'
import { homePaths } from '../lib/store/home.ts'
import { parseState } from '../lib/store/parse.ts'
import { STATE_VERSION } from '../lib/store/schema.ts'
import { StateStore } from '../lib/store/state.ts'
import { activeCall } from './helpers/entries.ts'

const PEER = 'b'.repeat(64)
const NOW = Math.floor(Date.now() / 1000)

function store() {
  const paths = homePaths({ P2P_HOME: mkdtempSync(join(tmpdir(), 'p2p-store-')) })
  return { paths, store: new StateStore(paths, () => {}) }
}

const call = (id: string) => activeCall(id, PEER, NOW)

const say = (id: string, text: string, at = NOW) => ({ id, from: PEER, at, text })

describe('call logs', () => {
  it('a line a killed run appended before saving the state is not read, and the next append cuts it off', async () => {
    const { paths, store: s } = store()
    await s.update((st) => {
      st.calls.ca11ca11 = call('ca11ca11')
      addEntry(st, st.calls.ca11ca11, say('m1', 'one'), NOW)
    })
    // what `send` killed between its two writes leaves: its line in the log, its state unsaved
    const log = join(paths.calls, 'ca11ca11.jsonl')
    appendFileSync(log, `\n${JSON.stringify(say('m2', 'never queued'))}`)
    const reader = new StateStore(paths, () => {})
    expect(reader.calls.entries(await reader.read(), 'ca11ca11').map((e) => e.id)).toEqual(['m1'])
    await reader.update((st) => addEntry(st, st.calls.ca11ca11, say('m3', 'three'), NOW))
    expect(reader.calls.entries(await reader.read(), 'ca11ca11').map((e) => e.id)).toEqual(['m1', 'm3'])
    expect(readFileSync(log, 'utf8')).not.toContain('never queued')
  })

  it("a call's first line, appended by a run killed before saving the state, is not read either", async () => {
    const { paths, store: s } = store()
    await s.update((st) => {
      st.calls.ca11ca11 = call('ca11ca11')
    })
    // the call has no count yet: a killed `send` wrote its first line, never its state
    mkdirSync(paths.calls, { recursive: true })
    appendFileSync(join(paths.calls, 'ca11ca11.jsonl'), `\n${JSON.stringify(say('m1', 'never queued'))}`)
    const reader = new StateStore(paths, () => {})
    expect(reader.calls.entries(await reader.read(), 'ca11ca11')).toEqual([])
    await reader.update((st) => addEntry(st, st.calls.ca11ca11, say('m2', 'two'), NOW))
    expect(reader.calls.entries(await reader.read(), 'ca11ca11').map((e) => e.id)).toEqual(['m2'])
  })

  it('hold the messages; the state file holds the call and a count', async () => {
    const { paths, store: s } = store()
    await s.update((st) => {
      st.calls.ca11ca11 = call('ca11ca11')
      for (let i = 0; i < 50; i++) addEntry(st, st.calls.ca11ca11, say(`m${i}`, `${'x'.repeat(1_000)} ${i}`, NOW + (i % 7)), NOW)
    })
    const file = readFileSync(paths.state, 'utf8')
    expect(file.length).toBeLessThan(10_000) // 50 KB of text stayed out
    expect(file).not.toContain('newEntries')
    const state = await s.read()
    expect(state.calls.ca11ca11.messageCount).toBe(50)
    const texts = s.calls.entries(state, 'ca11ca11').map((e) => Number(e.text.split(' ')[1]))
    expect(texts).toHaveLength(50)
    // time order; arrival order among entries of one time
    expect(texts).toEqual([...texts].sort((a, b) => (a % 7) - (b % 7) || a - b))
  })

  it('a torn last line and an entry appended twice lose and duplicate nothing', async () => {
    const { paths, store: s } = store()
    await s.update((st) => {
      st.calls.ca11ca11 = call('ca11ca11')
      addEntry(st, st.calls.ca11ca11, say('m1', 'one'), NOW)
    })
    const log = join(paths.calls, 'ca11ca11.jsonl')
    appendFileSync(log, '\n{"id":"m2","from":"') // a kill in the middle of an append
    appendFileSync(log, `\n${JSON.stringify(say('m1', 'one'))}`) // a retried run appending again
    await s.update((st) => {
      addEntry(st, st.calls.ca11ca11, say('m3', 'three', NOW + 1), NOW)
    })
    expect(s.calls.entries(await s.read(), 'ca11ca11').map((e) => e.text)).toEqual(['one', 'three'])
  })
})

describe('one parse and at most one write per run', () => {
  it('parses once, writes only what changed, and sees what another process wrote', async () => {
    const { paths, store: s } = store()
    await s.update((st) => {
      st.nextSeq = 5
    })
    const parse = vi.spyOn(JSON, 'parse')
    const written = statSync(paths.state, { bigint: true }).mtimeNs
    await s.read()
    await s.update(() => {}) // changes nothing: not written
    await s.update(() => {})
    expect(parse).not.toHaveBeenCalled()
    expect(statSync(paths.state, { bigint: true }).mtimeNs).toBe(written)
    // another process replaces the file: read again
    writeFileSync(paths.state, JSON.stringify({ ...JSON.parse(readFileSync(paths.state, 'utf8')), nextSeq: 9 }))
    parse.mockClear()
    expect((await s.read()).nextSeq).toBe(9)
    expect(parse).toHaveBeenCalledTimes(1)
    parse.mockRestore()
  })

  it('a change that throws leaves the file as it was, and the next update starts from it', async () => {
    const { store: s } = store()
    await s.update((st) => {
      st.nextSeq = 3
    })
    await expect(
      s.update((st) => {
        st.nextSeq = 100
        throw new Error('half done')
      }),
    ).rejects.toThrow('half done')
    expect((await s.read()).nextSeq).toBe(3)
  })
})

describe('version 1 state files', () => {
  it('move their messages to the call logs and keep their DM ids', async () => {
    const v1 = {
      version: 1,
      calls: { ca11ca11: { ...call('ca11ca11'), messageCount: undefined, state: 'ended', messages: [say('m1', 'one'), say('m2', 'two')] } },
      dmIds: { d1: NOW },
    }
    const parsed = parseState(JSON.stringify(v1))
    expect(parsed.version).toBe(STATE_VERSION)
    expect(parsed.calls.ca11ca11.messageCount).toBe(2)
    expect(['d1', 'm1', 'm2', 'm3'].map((id) => parsed.rumorIds.has(id))).toEqual([true, true, true, false])

    const { paths, store: s } = store()
    writeFileSync(paths.state, JSON.stringify(v1))
    await s.update(() => {})
    const saved = JSON.parse(readFileSync(paths.state, 'utf8'))
    expect(saved.version).toBe(STATE_VERSION)
    expect(saved.calls.ca11ca11.messages).toBeUndefined()
    expect(s.calls.entries(await s.read(), 'ca11ca11').map((e) => e.text)).toEqual(['one', 'two'])
  })
})
