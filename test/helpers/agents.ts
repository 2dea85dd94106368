// Agents as the end-to-end tests use them: named and announced, asked who they are, polled.
import { expect } from 'vitest'
import { type Agent, agent } from './cli.ts'

/** A new agent on `relays`, named, that has announced itself (presence and inbox relays). */
export async function named(name: string, relays: string[]): Promise<Agent> {
  const a = agent(relays)
  for (const args of [['config', 'set', 'name', name], ['status']]) expect((await a.run(args)).code).toBe(0)
  return a
}

export const whoami = async (a: Agent) => (await a.run(['whoami', '--json'])).json() as { npub: string; pubkey: string }

/** The events a `poll --json` prints (it must succeed). */
export async function pollEvents(a: Agent): Promise<Array<Record<string, any>>> {
  const r = await a.run(['poll', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return r.json().events
}
