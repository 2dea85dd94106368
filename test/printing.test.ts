// An event counts as printed only once it was (issue 12, point 8): a poll whose reader went
// away, or whose hook was killed, leaves its events for the next poll; a closed pipe is no crash.
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Agent, agent, CLI } from './helpers/cli.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { sendDms } from './helpers/stranger.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

/** Runs the CLI with its stdout piped into `reader` (a shell pipeline). */
const piped = (a: Agent, args: string, reader: string) =>
  spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" ${args} | ${reader}`], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', P2P_HOME: a.home, P2P_RELAYS: relay.url },
    encoding: 'utf8',
    timeout: 20_000,
  })

const newAgentWithDm = async (text: string) => {
  const a = agent([relay.url])
  expect((await a.run(['status'])).code).toBe(0)
  await sendDms(relay.url, (await a.run(['whoami', '--json'])).json().pubkey, 1, undefined, () => text)
  return a
}
const texts = async (a: Agent, ...extra: string[]) => {
  const r = await a.run(['poll', '--json', ...extra])
  expect(r.code, r.stderr).toBe(0)
  return (r.json().events as Array<{ text?: string }>).map((e) => e.text)
}

describe('printing', () => {
  it('a poll whose reader closed the pipe leaves its events for the next poll', async () => {
    const a = await newAgentWithDm('read me later')
    const first = piped(a, 'poll --json', 'head -c 0')
    expect(first.stderr).not.toMatch(/Error|EPIPE/)
    expect(await texts(a)).toEqual(['read me later'])
    expect(await texts(a)).toEqual([])
  })

  it('a hook that was killed leaves its event for the next poll', async () => {
    const a = await newAgentWithDm('hook me')
    const killed = await a.run(['poll', '--json', '--exec', 'kill -9 $$'])
    expect(killed.code).toBe(0)
    expect(await texts(a, '--exec', 'cat > /dev/null')).toEqual(['hook me'])
    expect(await texts(a)).toEqual([])
  })

  it('history into a closed pipe ends quietly', async () => {
    const a = agent([relay.url])
    const r = piped(a, 'history --json', 'head -c 0; sleep 0.2')
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
})
