// TLS as users have it (issue 25, point 4): public relays are wss://. A test CA signs the relay's
// certificate, and the CLI trusts it the way Node trusts any extra CA (NODE_EXTRA_CA_CERTS), so
// the whole call flow runs over TLS; without that trust the relay is refused, and says why.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generate } from 'selfsigned'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Agent, agent, tempHome, withEnv } from './helpers/cli.ts'
import { whoami } from './helpers/inject.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

/** A CA, and a certificate it signed for 127.0.0.1 and localhost. */
async function testCertificates() {
  const day = 24 * 3600 * 1000
  const validity = { notBeforeDate: new Date(Date.now() - day), notAfterDate: new Date(Date.now() + day) }
  const ca = await generate([{ name: 'commonName', value: 'p2p-comm test CA' }], {
    ...validity,
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  })
  const relay = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...validity,
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  })
  return { caCert: ca.cert, relay: { key: relay.private, cert: relay.cert } }
}

describe('a relay over wss://', () => {
  let relay: TestRelay
  let trusting: Record<string, string>
  beforeAll(async () => {
    const { caCert, relay: identity } = await testCertificates()
    const caFile = join(tempHome('p2p-ca-'), 'ca.pem')
    writeFileSync(caFile, caCert)
    trusting = { NODE_EXTRA_CA_CERTS: caFile }
    relay = await startRelay({ tls: identity })
  })
  afterAll(() => relay.stop())

  const ok = async (a: Agent, args: string[]) => {
    const r = await a.run([...args, '--json'])
    expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0)
    return r.json()
  }

  it('carries a whole call: request, answer, messages both ways, end', async () => {
    expect(relay.url).toMatch(/^wss:\/\//)
    const [alice, bob] = [withEnv(agent([relay.url]), trusting), withEnv(agent([relay.url]), trusting)]
    const bobKey = await whoami(bob)
    const status = await ok(alice, ['status'])
    expect(status.relays).toEqual([expect.objectContaining({ url: relay.url, connected: true })])
    await ok(alice, ['call', bobKey.npub, 'over TLS'])
    expect((await ok(bob, ['poll'])).events.map((e: { type: string }) => e.type)).toContain('call-request')
    await ok(bob, ['answer', 'accept'])
    await ok(alice, ['poll'])
    await ok(alice, ['send', 'encrypted twice, then TLS'])
    const heard = await ok(bob, ['poll'])
    expect(heard.events.map((e: { text?: string }) => e.text)).toContain('encrypted twice, then TLS')
    await ok(bob, ['send', 'and back'])
    expect((await ok(alice, ['poll'])).events.map((e: { text?: string }) => e.text)).toContain('and back')
    await ok(alice, ['end'])
    expect((await ok(bob, ['poll'])).events.map((e: { type: string }) => e.type)).toContain('call-ended')
  })

  it('refuses the relay when its certificate is not trusted, and says what to do', async () => {
    const untrusting = agent([relay.url])
    const doc = (await untrusting.run(['status', '--json'])).json()
    expect(doc.relays).toEqual([expect.objectContaining({ url: relay.url, connected: false, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })])
    const shown = await untrusting.run(['status'])
    expect(shown.stdout + shown.stderr).toMatch(/TLS certificate not trusted.*NODE_EXTRA_CA_CERTS/)
  })
})
