// Relays that misbehave on purpose. Beside each, a real relay: the call flow must still
// complete, every command within its deadline and with the contract's exit code, the faulty
// relay reported, and nothing invalid in the state.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { parseState } from '../lib/store/parse.ts'
import { type Agent, agent, type RunResult, workedMs } from './helpers/cli.ts'
import { entriesOf } from './helpers/entries.ts'
import { type FaultyRelay, type Misbehaviour, startFaultyRelay } from './helpers/faulty-relay.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

// the default --timeout, plus closing and saving on a loaded machine: measured from the CLI's own
// start (its --verbose "done" line), since Node's start-up under load is no part of its deadline
const DEADLINE_MS = 4_000 + 1_500
const now = () => Math.floor(Date.now() / 1000)
const junkEvent = finalizeEvent(
  {
    kind: 30078,
    tags: [
      ['t', 'openclaw-p2p'],
      ['d', 'flood'],
    ],
    content: '{}',
    created_at: now(),
  },
  generateSecretKey(),
)

const faults: Array<[string, Misbehaviour]> = [
  ['closes the socket in the middle of a publish', { onEvent: (_e, ws) => ws.terminate() }],
  ['answers NOTICE instead of OK', { onEvent: (_e, ws) => ws.send(JSON.stringify(['NOTICE', 'nope'])) }],
  [
    'sends malformed JSON and binary frames',
    {
      onReq: (sub, ws) => {
        ws.send('{"oops')
        ws.send(Buffer.alloc(64, 1), { binary: true })
        ws.send(JSON.stringify(['EOSE', sub]))
      },
    },
  ],
  ['sends a 5 MB frame', { onReq: (sub, ws) => ws.send(JSON.stringify(['NOTICE', 'x'.repeat(5 * 1024 * 1024), sub])) }],
  [
    'sends events that do not match, with bad signatures, or from the far future',
    {
      onReq: (sub, ws) => {
        ws.send(
          JSON.stringify([
            'EVENT',
            sub,
            finalizeEvent({ kind: 1, tags: [], content: 'not asked for', created_at: now() }, generateSecretKey()),
          ]),
        )
        ws.send(JSON.stringify(['EVENT', sub, { ...junkEvent, content: '{"tampered":true}' }]))
        ws.send(
          JSON.stringify([
            'EVENT',
            sub,
            finalizeEvent(
              {
                kind: 30078,
                tags: [
                  ['t', 'openclaw-p2p'],
                  ['d', 'future'],
                ],
                content: '{"name":"future"}',
                created_at: now() + 86_400,
              },
              generateSecretKey(),
            ),
          ]),
        )
        ws.send(JSON.stringify(['EOSE', sub]))
      },
    },
  ],
  ['never sends EOSE', { onReq: () => {} }],
  [
    'floods 100,000 events',
    {
      // in batches, stopping once the client hangs up: a real relay's flood does not block the
      // test process (which also times the CLI) after the client is gone
      onReq: async (sub, ws: WebSocket) => {
        const frame = JSON.stringify(['EVENT', sub, junkEvent])
        for (let i = 0; i < 100_000 && ws.readyState === ws.OPEN; i++) {
          ws.send(frame)
          if (i % 1_000 === 999) await new Promise((resolve) => setImmediate(resolve))
        }
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(['EOSE', sub]))
      },
    },
  ],
]

let good: TestRelay
beforeAll(async () => {
  good = await startRelay()
})
afterAll(() => good.stop())

function expectTimely(r: RunResult, code = 0): void {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(code)
  expect(workedMs(r)).toBeLessThan(DEADLINE_MS)
}

// independent tests (each its own agents; shared relays only serve them): two at a time
describe.concurrent('faults', () => {
  describe.each(faults)('a relay that %s', (_name, misbehaviour) => {
    let faulty: FaultyRelay
    beforeAll(async () => {
      faulty = await startFaultyRelay(misbehaviour)
    })
    afterAll(() => faulty.stop())

    it('beside a good relay, the whole call flow completes and the faulty relay is reported', { timeout: 60_000 }, async () => {
      const relays = [good.url, faulty.url]
      const alice: Agent = agent(relays)
      const bob: Agent = agent(relays)
      for (const r of await Promise.all([alice, bob].map((a) => a.run(['status', '--verbose'])))) expectTimely(r)
      const bobNpub = (await bob.run(['whoami', '--json'])).json().npub

      const call = await alice.run(['call', bobNpub, 'despite the faulty relay', '--json', '--verbose'])
      expectTimely(call)
      const callId = call.json().call.id
      const incoming = await bob.run(['poll', '--json', '--verbose'])
      expectTimely(incoming)
      expect(incoming.json().events.map((e: { type: string }) => e.type)).toEqual(['call-request'])
      expectTimely(await bob.run(['answer', 'accept', '--verbose']))
      expectTimely(await alice.run(['poll', '--verbose']))
      const sent = await alice.run(['send', 'still here', '--json', '--verbose'])
      expectTimely(sent)
      expect(sent.json().relays).toContainEqual({ url: good.url, ok: true })
      const got = await bob.run(['poll', '--json', '--verbose'])
      expectTimely(got)
      expect(got.json().events).toEqual([expect.objectContaining({ type: 'message', text: 'still here' })])
      expectTimely(await alice.run(['end', '--verbose']))
      expectTimely(await bob.run(['poll', '--verbose']))

      // the fault shows: in what was published, or in the sync
      const status = (await bob.run(['status', '--json'])).json()
      const entry = status.relays.find((r: { url: string }) => r.url === faulty.url)
      const faultSeen =
        !entry.connected ||
        !entry.synced ||
        entry.dropped > 0 ||
        sent.json().relays.some((r: { url: string; ok: boolean }) => r.url === faulty.url && !r.ok)
      expect(faultSeen).toBe(true)

      // nothing invalid reached the state
      const state = JSON.parse(readFileSync(join(bob.home, 'p2p-state.json'), 'utf8'))
      expect(entriesOf(parseState(JSON.stringify(state)), callId, bob.home).map((m) => m.text)).toEqual(['still here'])
      expect(Object.values(state.agents).map((a) => (a as { name: string }).name)).not.toContain('future')
      expect(JSON.stringify(state)).not.toContain('tampered')
      expect(readFileSync(join(bob.home, 'p2p-calls', `${callId}.jsonl`), 'utf8')).not.toContain('tampered')
    })

    it('alone, every command still ends within its deadline with the contract’s exit code', async () => {
      const solo = agent([faulty.url])
      for (const command of [['status'], ['list'], ['poll']]) {
        const r = await solo.run([...command, '--json', '--verbose'])
        expect(workedMs(r), command[0]).toBeLessThan(DEADLINE_MS)
        expect([0, 4], command[0]).toContain(r.code)
        expect(() => r.json()).not.toThrow()
      }
    })
  })
})
