// Agents as the end-to-end tests use them: named and announced, asked who they are, polled.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { type Agent, agent } from './cli.ts'

/** A new agent on `relays`, named, that has announced itself (presence and inbox relays). */
export async function named(name: string, relays: string[]): Promise<Agent> {
  const a = agent(relays)
  for (const args of [['config', 'set', 'name', name], ['status']]) expect((await a.run(args)).code).toBe(0)
  return a
}

/** Who `a` is: read from its identity file once a run made it (a CLI run costs ~0.4 s of CPU;
 *  `whoami` itself is tested in cli.test.ts), else from `whoami`, which makes it. */
export async function whoami(a: Agent): Promise<{ npub: string; pubkey: string }> {
  const file = join(a.home, 'p2p-identity.json')
  if (existsSync(file)) {
    const { npub, pubkey } = JSON.parse(readFileSync(file, 'utf8'))
    if (typeof npub === 'string' && typeof pubkey === 'string') return { npub, pubkey }
  }
  return (await a.run(['whoami', '--json'])).json()
}

/** An active call between two agents: alice calls, bob sees the request and accepts, alice
 *  hears it; returns the call id. */
export async function connected(alice: Agent, bob: Agent, topic = 'a topic'): Promise<string> {
  const call = await alice.run(['call', (await whoami(bob)).npub, topic, '--json'])
  expect(call.code, call.stderr).toBe(0)
  expect((await pollEvents(bob)).map((e) => e.type)).toEqual(['call-request'])
  const accept = await bob.run(['answer', 'accept', '--json'])
  expect(accept.code, accept.stderr).toBe(0)
  expect((await pollEvents(alice)).map((e) => e.type)).toContain('call-accepted')
  return call.json().call.id
}

/** The events a `poll --json` prints (it must succeed). */
export async function pollEvents(a: Agent): Promise<Array<Record<string, any>>> {
  const r = await a.run(['poll', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return r.json().events
}
