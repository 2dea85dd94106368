// Work a relay can make us do, bounded before it is done (issue 23, point 5): one AUTH per relay
// and run however often it challenges, and frames nested deeper than any relay message refused
// before they are parsed. Beside the hostile relay, a good one's DM is still read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_FRAME_DEPTH } from '../lib/limits.ts'
import { parseFrame } from '../lib/nostr/relay/messages.ts'
import { agent } from './helpers/cli.ts'
import { type FaultyRelay, startFaultyRelay } from './helpers/faulty-relay.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { sendDms } from './helpers/stranger.ts'

const CHALLENGES = 2_000
const NESTED_FRAMES = 20
/** ~3.9 MB of brackets: under the frame size cap, as the red team sent them */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

let good: TestRelay
let hostile: FaultyRelay
/** AUTH messages the hostile relay got */
let auths = 0
beforeAll(async () => {
  good = await startRelay()
  const deep = nested(1_950_000)
  hostile = await startFaultyRelay({
    onConnection: (ws) => {
      ws.on('message', (data) => {
        const text = data.toString()
        if (!text.startsWith('["AUTH"')) return
        auths++
        ws.send(JSON.stringify(['OK', JSON.parse(text)[1].id, false, 'restricted: not you']))
      })
      for (let i = 0; i < CHALLENGES; i++) ws.send(JSON.stringify(['AUTH', `challenge-${i}`]))
      for (let i = 0; i < NESTED_FRAMES; i++) ws.send(deep)
    },
  })
})
afterAll(async () => {
  await good.stop()
  await hostile.stop()
})

describe('relay work', () => {
  it('a frame nested deeper than any relay message is refused unparsed; real ones pass', () => {
    expect(parseFrame(nested(MAX_FRAME_DEPTH + 1), false)).toMatch(/nested/)
    expect(parseFrame(nested(1_000_000), false)).toMatch(/nested/)
    // brackets inside strings are text, not depth
    expect(parseFrame(JSON.stringify(['NOTICE', nested(1_000)]), false)).toEqual(['NOTICE', nested(1_000)])
    const event = { id: 'x', tags: [['p', 'y']], content: '"[[[[[[[[[[\\"' }
    expect(parseFrame(JSON.stringify(['EVENT', 'sub', event]), false)).toEqual(['EVENT', 'sub', event])
    // a string that ends in an escaped backslash ends there: what follows counts
    expect(parseFrame(`["NOTICE","x\\\\",${nested(MAX_FRAME_DEPTH)}]`, false)).toMatch(/nested/)
    expect(parseFrame(`["NOTICE","x\\\\",${nested(MAX_FRAME_DEPTH - 1)}]`, false)).toEqual([
      'NOTICE',
      'x\\',
      JSON.parse(nested(MAX_FRAME_DEPTH - 1)),
    ])
  })

  it('one AUTH per relay and run however often it challenges; 20 frames of nested JSON dropped; the good relay read', async () => {
    const a = agent([good.url, hostile.url])
    const me = (await a.run(['whoami', '--json'])).json().pubkey
    await sendDms(good.url, me, 1, undefined, () => 'from the good relay')
    const r = await a.run(['poll', '--json', '--verbose', '--timeout', '4000'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json().events.map((e: { text: string }) => e.text)).toEqual(['from the good relay'])
    // the code before signed every challenge (2,000 of them: 13 s)
    expect(auths).toBe(1)
    expect(r.stderr.split('\n').filter((l) => l.includes(hostile.url) && /nested deeper/.test(l))).toHaveLength(NESTED_FRAMES)
  }, 40_000)
})
