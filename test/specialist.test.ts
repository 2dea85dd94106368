// A specialist's day (issue 26, point 5): an agent with `maxCalls 20` called by twenty agents at
// the same moment takes every call, reads every question in its own call, and each caller gets
// exactly its own answer. The built CLI as child processes against a real relay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_CALLS } from '../lib/limits.ts'
import { type Agent, agent } from './helpers/cli.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

const CALLERS = 20
/** runs of one agent started together at most (twenty node processes at once on 2 cores would
 *  stretch each past its deadline) */
const AT_ONCE = 5

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  await relay.stop()
})

async function ok(a: Agent, args: string[]) {
  const r = await a.run([...args, '--json'])
  expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0)
  return r.json()
}
/** Each event's type, call and text. */
const seen = async (a: Agent) =>
  ((await ok(a, ['poll'])).events as Array<Record<string, string>>).map((e) => [e.type, e.callId, e.text ?? ''])
/** `work` for each item, AT_ONCE at a time. */
async function inTurns<T, R>(items: T[], work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += AT_ONCE)
    out.push(...(await Promise.all(items.slice(i, i + AT_ONCE).map((t, k) => work(t, i + k)))))
  return out
}

describe('a specialist with maxCalls 20', () => {
  it('twenty callers at once: every call taken, and each caller gets exactly its own answer', async () => {
    expect(CALLERS).toBe(MAX_CALLS)
    const desk = agent([relay.url])
    for (const args of [['config', 'set', 'name', 'fx-desk'], ['config', 'set', 'maxCalls', String(CALLERS)], ['status']])
      await ok(desk, args)
    const deskNpub = (await ok(desk, ['whoami'])).npub
    const callers = Array.from({ length: CALLERS }, () => agent([relay.url]))

    // all twenty ring within the same second or two
    const ids: string[] = (await inTurns(callers, (c, i) => ok(c, ['call', deskNpub, `pair ${i}`]))).map((r) => r.call.id)
    const requests = await seen(desk)
    expect(requests.map(([type, id]) => `${type} ${id}`).sort()).toEqual(ids.map((id) => `call-request ${id}`).sort())
    await inTurns(ids, (id) => ok(desk, ['answer', 'accept', '--call', id]))
    expect((await ok(desk, ['status'])).activeCalls).toHaveLength(CALLERS)

    // each caller hears its accept and asks its question
    await inTurns(callers, async (c, i) => {
      expect(await seen(c)).toEqual([['call-accepted', ids[i], '']])
      await ok(c, ['send', `rate for pair ${i}?`])
    })
    const questions = await seen(desk)
    expect(questions.map(([, id, text]) => `${id} ${text}`).sort()).toEqual(ids.map((id, i) => `${id} rate for pair ${i}?`).sort())

    // the desk answers each in its own call; each caller gets its answer and nothing else
    await inTurns(ids, (id, i) => ok(desk, ['send', '--call', id, `pair ${i}: 1.${i}`]))
    await inTurns(callers, async (c, i) => expect(await seen(c)).toEqual([['message', ids[i], `pair ${i}: 1.${i}`]]))
  }, 240_000)
})
