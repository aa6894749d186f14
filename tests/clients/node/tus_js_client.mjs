// Drive tus-js-client (npm) in Node for tests/clients/tus_js.rs.
//
// Usage: node tus_js_client.mjs '<json options>'
//   {endpoint, user, password, file, chunkSize, metadata, uploadDataDuringCreation,
//    store (FileUrlStorage path: resume by fingerprint), pauseAfter (chunks, then abort and
//    wait to be killed)}
// Prints one JSON object per line: start (previous uploads found), chunk, paused, done.
// Exits 1 on an upload error.
import * as fs from 'node:fs'
import { Upload, FileUrlStorage } from 'tus-js-client'

const o = JSON.parse(process.argv[2])
const emit = (event) => console.log(JSON.stringify(event))
let chunks = 0

const upload = new Upload(fs.createReadStream(o.file), {
  endpoint: o.endpoint,
  headers: { Authorization: 'Basic ' + Buffer.from(`${o.user}:${o.password}`).toString('base64') },
  chunkSize: o.chunkSize ?? Infinity,
  metadata: o.metadata ?? {},
  uploadDataDuringCreation: !!o.uploadDataDuringCreation,
  urlStorage: o.store ? new FileUrlStorage(o.store) : undefined,
  storeFingerprintForResuming: !!o.store,
  removeFingerprintOnSuccess: false,
  retryDelays: null,
  onChunkComplete(_size, accepted, total) {
    chunks += 1
    emit({ event: 'chunk', offset: accepted })
    if (o.pauseAfter && chunks === o.pauseAfter && accepted < total) {
      upload.abort()
      emit({ event: 'paused', offset: accepted })
      setInterval(() => {}, 1 << 30) // keep the process alive until the test kills it
    }
  },
  onSuccess() {
    emit({ event: 'done', url: upload.url, chunks })
  },
  onError(err) {
    console.error(String(err))
    process.exit(1)
  },
})

let previous = []
if (o.store) {
  previous = await upload.findPreviousUploads()
  if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0])
}
emit({ event: 'start', previous: previous.length })
upload.start()
