// Identity and state on disk, through the real CLI: creation, races, corruption, the lock.

import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STATE_VERSION } from '../lib/store/schema.ts'
import { agent, runCli, tempHome, workedMs } from './helpers/cli.ts'
import { deadRelayUrl, startRelay, type TestRelay } from './helpers/relay.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

describe('identity', () => {
  it('is created on first run with mode 0600, in a folder created 0700', async () => {
    const home = join(tempHome(), 'nested', 'home')
    const a = agent([relay.url], home)
    const r = await a.run(['whoami', '--json'])
    expect(r.code).toBe(0)
    const file = join(home, 'p2p-identity.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(home).mode & 0o777).toBe(0o700)
    const id = JSON.parse(readFileSync(file, 'utf8'))
    expect(r.json()).toMatchObject({ npub: id.npub, pubkey: id.pubkey, owner: null, relays: [relay.url] })
    // the second run keeps it
    expect((await a.run(['whoami', '--json'])).json().npub).toBe(id.npub)
  })

  it('ends with one identity when ten first runs race', async () => {
    const a = agent([relay.url])
    const runs = await Promise.all(Array.from({ length: 10 }, () => a.run(['whoami', '--json'])))
    const npubs = new Set(runs.map((r) => r.json().npub))
    expect(runs.every((r) => r.code === 0)).toBe(true)
    expect(npubs.size).toBe(1)
    expect(JSON.parse(readFileSync(join(a.home, 'p2p-identity.json'), 'utf8')).npub).toBe([...npubs][0])
    expect(readdirSync(a.home).filter((f) => f.includes('.tmp'))).toEqual([])
  })

  it('never overwrites a malformed identity, and says what to do', async () => {
    const a = agent([relay.url])
    const file = join(a.home, 'p2p-identity.json')
    writeFileSync(file, '{"secretKey": "not a key"}', { mode: 0o600 })
    for (const command of [['whoami'], ['status'], ['config', 'set', 'name', 'x']]) {
      const r = await a.run([...command, '--json'])
      expect(r.code).toBe(3)
      expect(r.json().error).toMatchObject({ code: 'identity-unreadable' })
      expect(r.json().error.hint).toMatch(/mv /)
    }
    expect(readFileSync(file, 'utf8')).toBe('{"secretKey": "not a key"}')
  })

  it('refuses to sign with a hand-edited file whose public key is not its secret key', async () => {
    const relayUrl = relay.url
    const a = agent([relayUrl])
    await a.run(['whoami'])
    const file = join(a.home, 'p2p-identity.json')
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    writeFileSync(file, JSON.stringify({ ...doc, pubkey: 'f'.repeat(64) }))
    const r = await a.run(['status', '--json'])
    expect(r.code).toBe(3)
    expect(r.json().error).toMatchObject({ code: 'identity-unreadable', message: expect.stringMatching(/does not match its secret key/) })
  })

  it('reads identity files written by other tools (nsec field) and warns when others can read it', async () => {
    const { generateSecretKey, getPublicKey } = await import('nostr-tools/pure')
    const { nsecEncode, npubEncode } = await import('nostr-tools/nip19')
    const sk = generateSecretKey()
    const a = agent([relay.url])
    const file = join(a.home, 'p2p-identity.json')
    writeFileSync(file, JSON.stringify({ nsec: nsecEncode(sk) }), { mode: 0o644 })
    chmodSync(file, 0o644)
    const r = await a.run(['whoami', '--json'])
    expect(r.json().npub).toBe(npubEncode(getPublicKey(sk)))
    expect(r.stderr).toContain(`chmod 600 ${file}`)
  })
})

describe('home folder', () => {
  it('an unwritable P2P_HOME is a usage error with a hint', async () => {
    const parent = tempHome()
    const home = join(parent, 'ro')
    mkdirSync(home, { mode: 0o500 })
    const r = await runCli(['whoami', '--json'], { P2P_HOME: join(home, 'sub') })
    // root can write anywhere; only check the message when the folder really is unwritable
    if (process.getuid?.() === 0) return expect(r.code).toBe(0)
    expect(r.code).toBe(2)
    expect(r.json().error.code).toBe('home-unwritable')
  })

  it('a P2P_HOME that is a file is a usage error with a hint', async () => {
    const file = join(tempHome(), 'a-file')
    writeFileSync(file, 'x')
    const r = await runCli(['whoami', '--json'], { P2P_HOME: file })
    expect(r.code).toBe(2)
    expect(r.json().error).toMatchObject({ code: 'home-unwritable' })
    expect(r.json().error.hint).toMatch(/P2P_HOME/)
  })
})

describe('state file', () => {
  it('keeps every update when ten invocations overlap', async () => {
    const a = agent([relay.url])
    await a.run(['whoami'])
    // each invocation records the health of a relay only it uses
    const urls = await Promise.all(Array.from({ length: 10 }, () => deadRelayUrl()))
    const runs = await Promise.all(urls.map((url) => a.run(['status', '--relay', url, '--relay', relay.url, '--json'])))
    for (const r of runs) expect(r.code, r.stderr).toBe(0)
    const state = JSON.parse(readFileSync(join(a.home, 'p2p-state.json'), 'utf8'))
    for (const url of urls) expect(state.relayHealth[url]?.lastError).toBe('ECONNREFUSED')
    expect(state.relayHealth[relay.url].lastOk).toBeGreaterThan(0)
    expect(existsSync(join(a.home, 'p2p-state.lock'))).toBe(false)
  })

  it('moves a corrupt state file aside with a warning and carries on', async () => {
    const a = agent([relay.url])
    await a.run(['whoami'])
    writeFileSync(join(a.home, 'p2p-state.json'), '{"version": 1, "agents": [tru')
    const r = await a.run(['status', '--json'])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/state file was unreadable.*moved it to/)
    const aside = readdirSync(a.home).filter((f) => f.startsWith('p2p-state.json.corrupt-'))
    expect(aside).toHaveLength(1)
    expect(readFileSync(join(a.home, aside[0]), 'utf8')).toBe('{"version": 1, "agents": [tru')
    expect(JSON.parse(readFileSync(join(a.home, 'p2p-state.json'), 'utf8')).version).toBe(STATE_VERSION)
  })

  it('recovers a lock left by a dead process at once', async () => {
    const a = agent([relay.url])
    await a.run(['whoami'])
    writeFileSync(join(a.home, 'p2p-state.lock'), JSON.stringify({ pid: 999_999_99, at: Date.now(), token: 'dead' }))
    const r = await a.run(['status', '--json', '--verbose'])
    expect(r.code).toBe(0)
    expect(workedMs(r)).toBeLessThan(5_000)
    expect(existsSync(join(a.home, 'p2p-state.lock'))).toBe(false)
  })

  it('a state written by a newer version is left alone with advice', async () => {
    const a = agent([relay.url])
    await a.run(['whoami'])
    const file = join(a.home, 'p2p-state.json')
    writeFileSync(file, '{"version": 99}')
    const r = await a.run(['status', '--json'])
    expect(r.code).toBe(3)
    expect(r.json().error.code).toBe('state-too-new')
    expect(readFileSync(file, 'utf8')).toBe('{"version": 99}')
  })
})

describe('config', () => {
  it('sets, gets and unsets values, validating them', async () => {
    const a = agent([relay.url])
    expect((await a.run(['config', 'set', 'name', 'research-bot'])).code).toBe(0)
    expect((await a.run(['config', 'set', 'relays', `${relay.url} ws://127.0.0.1:1`])).code).toBe(0)
    expect((await a.run(['config', 'get', 'name', '--json'])).json()).toEqual({ key: 'name', value: 'research-bot' })
    expect((await a.run(['config', 'get', '--json'])).json().config).toEqual({
      name: 'research-bot',
      relays: [relay.url, 'ws://127.0.0.1:1'],
    })
    const bad = await a.run(['config', 'set', 'owner', 'npub1nope', '--json'])
    expect(bad.code).toBe(2)
    expect(bad.json().error.code).toBe('bad-npub')
    const badKey = await a.run(['config', 'set', 'colour', 'red', '--json'])
    expect(badKey.code).toBe(2)
    expect(badKey.json().error.hint).toMatch(/name, about, owner, relays/)
    expect((await a.run(['config', 'set', 'name', 'unset'])).code).toBe(0)
    expect((await a.run(['config', 'get', 'name', '--json'])).json().value).toBeNull()
    // the config's relays apply when neither --relay nor P2P_RELAYS is given
    const who = await runCli(['whoami', '--json'], { P2P_HOME: a.home })
    expect(who.json()).toMatchObject({ relays: [relay.url, 'ws://127.0.0.1:1'], relaySource: 'config' })
  })
})
