// Many runs on one P2P_HOME at once, and runs killed mid-write: the state stays valid and
// nothing is lost or shown twice.

import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseState } from '../lib/store/parse.ts'
import { LOCK_STALE_MS } from '../lib/timing.ts'
import { type Agent, agent, CLI, type RunResult } from './helpers/cli.ts'
import { entriesOf } from './helpers/entries.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

async function callBetween(): Promise<{ alice: Agent; bob: Agent; callId: string }> {
  const alice = agent([relay.url])
  const bob = agent([relay.url])
  await bob.run(['status'])
  const npub = (await bob.run(['whoami', '--json'])).json().npub
  const callId = (await alice.run(['call', npub, 'busy line', '--json'])).json().call.id
  await bob.run(['poll'])
  expect((await bob.run(['answer', 'accept'])).code).toBe(0)
  await alice.run(['poll'])
  return { alice, bob, callId }
}

describe('overlapping runs', () => {
  it('20 runs at once (poll, send, status, sendfile): every message once, every event printed once', async () => {
    const { alice, bob, callId } = await callBetween()
    const incoming = ['b0', 'b1', 'b2', 'b3', 'b4']
    for (const text of incoming) expect((await bob.run(['send', text])).code).toBe(0)

    const runs: Array<Promise<RunResult>> = []
    const sent: string[] = []
    const files: string[] = []
    for (let i = 0; i < 20; i++) {
      const kind = i % 4
      if (kind === 0) runs.push(alice.run(['poll', '--json', '--timeout', '15000']))
      if (kind === 1) {
        runs.push(alice.run(['send', `a${i}`, '--timeout', '15000']))
        sent.push(`a${i}`)
      }
      if (kind === 2) runs.push(alice.run(['status', '--json', '--timeout', '15000']))
      if (kind === 3) {
        runs.push(alice.run(['sendfile', `f${i}.txt`, Buffer.from(`file ${i}`).toString('base64'), '--timeout', '15000']))
        files.push(`f${i}.txt`)
      }
    }
    const results = await Promise.all(runs)
    for (const r of results) expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)

    // the state file is whole, and holds each sent message and file once
    const state = parseState(readFileSync(join(alice.home, 'p2p-state.json'), 'utf8'))
    const texts = entriesOf(state, callId, alice.home)
      .filter((m) => m.from !== state.calls[callId].peer)
      .map((m) => m.text)
    expect(texts.sort()).toEqual([...sent, ...files].sort())

    // bob's messages were printed exactly once across all of alice's polls (and a last one)
    const printed = results
      .filter((_r, i) => i % 4 === 0)
      .flatMap((r) => r.json().events)
      .concat((await alice.run(['poll', '--json'])).json().events)
      .filter((e: { type: string }) => e.type === 'message')
      .map((e: { text: string }) => e.text)
    expect(printed.sort()).toEqual(incoming)

    // and bob receives everything alice sent, once
    const got = (await bob.run(['poll', '--json', '--timeout', '15000'])).json().events
    expect(
      got
        .filter((e: { type: string }) => e.type === 'message')
        .map((e: { text: string }) => e.text)
        .sort(),
    ).toEqual(sent.sort())
    expect(
      got
        .filter((e: { type: string }) => e.type === 'file')
        .map((e: { file: { name: string } }) => e.file.name)
        .sort(),
    ).toEqual(files.sort())
  }, 120_000)
})

describe('runs killed mid-write', () => {
  it('never leave a state that fails to load, nor a lock that outlives the stale-lock time', async () => {
    const { alice } = await callBetween()
    for (let i = 0; i < 25; i++) {
      const command = i % 2 ? ['status'] : ['send', `kill ${i}`]
      const child = spawn(process.execPath, [CLI, ...command], {
        env: { PATH: process.env.PATH ?? '', P2P_HOME: alice.home, P2P_RELAYS: relay.url },
        stdio: 'ignore',
      })
      const closed = new Promise((resolve) => child.once('close', resolve))
      await new Promise((resolve) => setTimeout(resolve, 40 + Math.random() * 200))
      child.kill('SIGKILL')
      await closed

      const started = Date.now()
      const next = await alice.run(['history', '--json'])
      expect(next.code, next.stderr).toBe(0)
      expect(Date.now() - started).toBeLessThan(LOCK_STALE_MS)
      expect(next.stderr).not.toMatch(/unreadable/)
      expect(() => parseState(readFileSync(join(alice.home, 'p2p-state.json'), 'utf8'))).not.toThrow()
    }
  }, 120_000)
})
