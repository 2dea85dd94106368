// A worker thread's half of a large batch of gift wraps (nip17.ts: openWraps), opened as the
// main thread opens its own; the build makes it dist/open-worker.js, beside the chunks.
import { parentPort, workerData } from 'node:worker_threads'
import { openHere } from './nip17.ts'

const { wraps, me, secretKey, now } = workerData
parentPort?.postMessage(await openHere(wraps, me, secretKey, now))
