// An event counts as printed only once it was (issue 12, point 8): a poll whose reader went
// away, or whose hook was killed, leaves its events for the next poll; a closed pipe is no crash.
// And `poll --wait` (point 10) neither spins nor misses what arrives while it waits.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_HOOK_ATTEMPTS } from '../lib/limits.ts'
import { processStart } from '../lib/store/process.ts'
import { RING_TIMEOUT_S } from '../lib/timing.ts'
import { type Agent, agent, CLI, hookScript, workedMs } from './helpers/cli.ts'
import { startFaultyRelay } from './helpers/faulty-relay.ts'
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
/** Whether process `pid` is still there once its killer is done (a zombie waiting for init to reap it is not). */
async function stillThere(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0)
    } catch {
      return false
    }
    if (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return true
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
    const killed = await a.run(['poll', '--json', '--exec', hookScript(a.home, 'die.sh', 'kill -9 $$')])
    expect(killed.code).toBe(0)
    expect(await texts(a, '--exec', hookScript(a.home, 'take.sh', 'cat > /dev/null'))).toEqual(['hook me'])
    expect(await texts(a)).toEqual([])
  })

  it('a hook that times out is killed with what it started (issue 23, point 8)', async () => {
    // the shell alone was killed: what it ran lived on, holding poll's stderr if it kept it
    const a = await newAgentWithDm('slow hook')
    const pidFile = join(a.home, 'hook-child.pid')
    const hook = hookScript(a.home, 'slow.sh', `sleep 600 >/dev/null 2>&1 & echo $! > ${pidFile}; wait`)
    const r = await a.run(['poll', '--json', '--exec', hook], { env: { P2P_TEST_HOOK_TIMEOUT_MS: '1000' } })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/hook failed .*killed after 1 s/)
    const child = Number(readFileSync(pidFile, 'utf8'))
    const left = await stillThere(child)
    if (left) process.kill(child, 'SIGKILL')
    expect(left).toBe(false)
  })

  it('a hook killed on every run is given up on after a few, and said so (issue 23, point 8)', async () => {
    const a = await newAgentWithDm('hook never ends')
    for (let attempt = 1; attempt <= MAX_HOOK_ATTEMPTS; attempt++) {
      const r = await a.run(['poll', '--json', '--exec', hookScript(a.home, 'die.sh', 'kill -9 $$')])
      expect(r.json().events.map((e: { text: string }) => e.text)).toEqual(['hook never ends'])
      const [failure] = r.json().hookFailures
      expect(failure.attempts).toBe(attempt)
      expect(Boolean(failure.gaveUp)).toBe(attempt === MAX_HOOK_ATTEMPTS)
    }
    expect(await texts(a, '--exec', hookScript(a.home, 'take.sh', 'cat > /dev/null'))).toEqual([])
  })

  it('poll --max n prints n events and leaves the rest new (issue 23, point 14)', async () => {
    // a pipe takes what is written whatever its reader keeps (`poll | head -n 4`): a reader that
    // wants n events asks for n
    const a = agent([relay.url])
    expect((await a.run(['status'])).code).toBe(0)
    await sendDms(relay.url, (await a.run(['whoami', '--json'])).json().pubkey, 5, undefined, (i) => `step ${i + 1}`)
    const first = await texts(a, '--max', '2')
    expect(first).toHaveLength(2)
    const rest = await texts(a)
    expect(rest).toHaveLength(3)
    expect([...first, ...rest].sort()).toEqual(['step 1', 'step 2', 'step 3', 'step 4', 'step 5'])
    expect((await a.run(['poll', '--max', '0'])).code).toBe(2)
  })

  it('a lease held under a reused pid does not withhold its events, a live holder does (issue 23, point 9)', async () => {
    const a = await newAgentWithDm('leased')
    expect((await a.run(['status'])).code).toBe(0) // journals the DM, prints nothing
    const statePath = join(a.home, 'p2p-state.json')
    const lease = (start: string) => {
      const state = JSON.parse(readFileSync(statePath, 'utf8'))
      const seqs = state.journal.map((j: { seq: number }) => j.seq)
      expect(seqs).toHaveLength(1)
      // this test's process runs: its pid is live, and only the start time tells it from a poll's
      state.printLeases = [{ token: 'other-poll', pid: process.pid, start, at: Math.floor(Date.now() / 1000), seqs }]
      writeFileSync(statePath, JSON.stringify(state))
    }
    lease(String(processStart(process.pid)))
    expect(await texts(a)).toEqual([])
    lease('the start of a poll long gone')
    expect(await texts(a)).toEqual(['leased'])
  })

  it('history into a closed pipe ends quietly', async () => {
    const a = agent([relay.url])
    const r = piped(a, 'history --json', 'head -c 0; sleep 0.2')
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
})

describe('poll --wait', () => {
  it('does not spin when the relay refuses live subscriptions', async () => {
    let reqs = 0
    // answers every REQ in full, but closes the live ones (limit 0) at once
    const refusing = await startFaultyRelay((sub, ws, filters) => {
      reqs++
      const live = filters.some((f) => f.limit === 0)
      ws.send(JSON.stringify(live ? ['CLOSED', sub, 'restricted: no live subscriptions here'] : ['EOSE', sub]))
    })
    try {
      const a = agent([refusing.url])
      // a call of ours rings and expires two seconds into the wait: a reason to wake up early
      const call = await a.run(['call', npubEncode(getPublicKey(generateSecretKey())), 'anyone there?', '--json'])
      expect(call.code, call.stderr).toBe(0)
      const statePath = join(a.home, 'p2p-state.json')
      const state = JSON.parse(readFileSync(statePath, 'utf8'))
      state.calls[call.json().call.id].createdAt -= RING_TIMEOUT_S - 2
      writeFileSync(statePath, JSON.stringify(state))
      reqs = 0
      const r = await a.run(['poll', '--wait', '5', '--json', '--timeout', '2000', '--verbose'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.json().events.map((e: { type: string }) => e.type)).toEqual(['call-rejected'])
      expect(workedMs(r)).toBeLessThan(5_000 + 2_000 + 1_500)
      // a sync is a handful of REQs; looking again every few seconds adds a few more
      expect(reqs).toBeLessThan(40)
    } finally {
      await refusing.stop()
    }
  }, 30_000)

  it('wakes up for a message that arrives while it waits', async () => {
    const a = agent([relay.url])
    expect((await a.run(['status'])).code).toBe(0)
    const me = (await a.run(['whoami', '--json'])).json().pubkey
    const waiting = a.run(['poll', '--wait', '20', '--json'])
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    await sendDms(relay.url, me, 1, undefined, () => 'while you waited')
    const r = await waiting
    expect(r.json().events.map((e: { text?: string }) => e.text)).toEqual(['while you waited'])
    expect(r.ms).toBeLessThan(15_000)
  }, 30_000)
})
