// Peer for spacedav-bench: the reference Node tus server with its file store, defaults only.
// Usage: node server.mjs <port|0> <data-dir>
// Prints "tus-node listening on http://127.0.0.1:PORT/files/" once bound, which the bench reads.
import http from 'node:http'
import { Server } from '@tus/server'
import { FileStore } from '@tus/file-store'

const [port = '0', directory = './files'] = process.argv.slice(2)
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) })
const server = http.createServer((req, res) => tus.handle(req, res))
server.listen(Number(port), '127.0.0.1', () => {
  console.log(`tus-node listening on http://127.0.0.1:${server.address().port}/files/`)
})
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)))
