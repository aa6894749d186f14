// Uppy (@uppy/core + @uppy/tus) as ownCloud Web uses it, bundled by esbuild for
// tests/clients/uppy.rs. Query: endpoint, auth (Authorization value), chunk (bytes), cwu (1 =
// creation-with-upload). Exposes window.uppy, window.patches (PATCH 204s seen), window.log.
import Uppy from '@uppy/core'
import Tus from '@uppy/tus'

const q = new URLSearchParams(location.search)
window.patches = 0
window.log = []
const uppy = new Uppy({ autoProceed: false, allowMultipleUploadBatches: true })
uppy.use(Tus, {
  endpoint: q.get('endpoint'),
  headers: { Authorization: q.get('auth') },
  chunkSize: Number(q.get('chunk')) || Infinity,
  uploadDataDuringCreation: q.get('cwu') === '1',
  // Uppy's default retryDelays, as ownCloud Web runs it: a PATCH aborted by pause may still
  // hold the upload on the server for a moment (423/409), which tus-js-client retries via HEAD.
  removeFingerprintOnSuccess: false,
  onAfterResponse(req, res) {
    window.log.push([req.getMethod(), res.getStatus()])
    if (req.getMethod() === 'PATCH' && res.getStatus() === 204) window.patches += 1
  },
})
document.getElementById('f').addEventListener('change', (e) => {
  for (const f of e.target.files) uppy.addFile({ name: f.name, type: f.type, data: f, source: 'input' })
})
window.uppy = uppy
