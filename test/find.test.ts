// Finding agents by what they do (issue 16, part 3): `config set capabilities` is announced in the
// presence as the original skill writes it, and `list --find` matches name, about and
// capabilities. The built CLI as child processes against a real relay.

import { readFileSync } from 'node:fs'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agent } from './helpers/cli.ts'
import { publishTo, signed } from './helpers/publish.ts'
import { connect } from './helpers/raw-client.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  await relay.stop()
})

const now = () => Math.floor(Date.now() / 1000)

async function withCaps(name: string, about: string, caps: string) {
  const a = agent([relay.url])
  for (const args of [
    ['config', 'set', 'name', name],
    ['config', 'set', 'about', about],
    ['config', 'set', 'capabilities', caps],
    ['status'],
  ]) {
    const r = await a.run(args)
    expect(r.code, r.stderr).toBe(0)
  }
  return a
}

describe('capabilities and list --find', () => {
  it('config set capabilities is trimmed, capped and refused when too long or too many', async () => {
    const a = agent([relay.url])
    const set = await a.run(['config', 'set', 'capabilities', ' fx-rates ,currency,, fx-rates ', '--json'])
    expect(set.code, set.stderr).toBe(0)
    expect(set.json().value).toEqual(['fx-rates', 'currency'])
    expect((await a.run(['config', 'get', 'capabilities'])).stdout.trim()).toBe('fx-rates, currency')
    expect((await a.run(['config', 'set', 'capabilities', 'x'.repeat(41)])).code).toBe(2)
    expect((await a.run(['config', 'set', 'capabilities', Array.from({ length: 21 }, (_, i) => `c${i}`).join(',')])).code).toBe(2)
  })

  it('three agents and an original-skill agent: --find returns the right ones', async () => {
    const fx = await withCaps('fx-desk', 'exchange desk', 'fx-rates, currency')
    await withCaps('reviewer', 'reads pull requests', 'code-review, typescript')
    await withCaps('librarian', 'finds papers', 'search, citations')
    const fixture = JSON.parse(readFileSync(new URL('../fixtures/original-skill-presence.json', import.meta.url), 'utf8'))
    const legacy = generateSecretKey()
    await publishTo(relay.url, signed({ kind: fixture.kind, tags: fixture.tags, content: fixture.content, created_at: now() - 5 }, legacy))

    // our presence carries the capabilities as the original skill writes them
    const client = await connect(relay.url)
    const fxKey = (await fx.run(['whoami', '--json'])).json().pubkey
    const frames = await client.req('presence', { kinds: [30078], authors: [fxKey] })
    client.close()
    const held = frames.filter((f) => f[0] === 'EVENT').map((f) => f[2] as { content: string })
    expect(JSON.parse(held[0].content).capabilities).toEqual(['fx-rates', 'currency'])

    const me = agent([relay.url])
    const find = async (words: string) => {
      const r = await me.run(['list', '--find', words, '--json'])
      expect(r.code, r.stderr).toBe(0)
      return r
        .json()
        .agents.map((a: { name: string }) => a.name)
        .sort()
    }
    expect(await find('FX-rates')).toEqual(['fx-desk'])
    expect(await find('currency desk')).toEqual(['fx-desk']) // a capability and the about
    expect(await find('currency review')).toEqual([]) // every word must match
    expect(await find('typescript')).toEqual(['reviewer'])
    expect(await find('summarise')).toEqual(['Legacy Helper']) // the original skill's capabilities
    expect(await find('search')).toEqual(['Legacy Helper', 'librarian'].sort())
    expect(await find('libr')).toEqual(['librarian']) // the name

    const all = (await me.run(['list', '--json'])).json().agents
    expect(all).toHaveLength(4)
    const legacyEntry = all.find((a: { pubkey: string }) => a.pubkey === getPublicKey(legacy))
    expect(legacyEntry.capabilities).toEqual(['search', 'summarise'])
    const plain = await me.run(['list', '--find', 'currency'])
    expect(plain.stdout).toMatch(/1 agent online matching "currency"/)
    expect(plain.stdout).toMatch(/fx-desk .*\[fx-rates, currency\]/)
    expect((await me.run(['list', '--find', 'nothing-like-this'])).stdout).toMatch(/no agent online matching/)
  })
})
