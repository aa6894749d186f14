// Drive the Uppy page in headless Chromium through playwright-core, for tests/clients/uppy.rs.
//
// Usage: node driver.mjs '<json>' with {chromium, page (URL), files: [paths], mode}
//   mode "upload": pick the files, upload, report.
//   mode "pause-reload-resume": pick one file, upload, pause after >= 3 PATCHes, reload the
//     page, pick the same file again, upload (tus resumes from the localStorage fingerprint).
// Prints one JSON line {successful, failed: [messages], log: [[method, status]...]}.
import { chromium } from 'playwright-core'

const o = JSON.parse(process.argv[2])
const browser = await chromium.launch({
  executablePath: o.chromium,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
try {
  const page = await (await browser.newContext()).newPage()
  const consoleLines = []
  page.on('console', (m) => consoleLines.push(m.text()))
  const upload = () => page.evaluate(async () => {
    const r = await window.uppy.upload()
    return {
      successful: (r?.successful ?? []).length,
      failed: (r?.failed ?? []).map((f) => String(f.error)),
      log: window.log,
    }
  })
  await page.goto(o.page)
  await page.setInputFiles('#f', o.files)
  let result
  if (o.mode === 'pause-reload-resume') {
    page.evaluate(() => { window.uppy.upload() }).catch(() => {})
    await page.waitForFunction(() => window.patches >= 3, null, { timeout: 60000 })
    await page.evaluate(() => window.uppy.pauseAll())
    const before = await page.evaluate(() => window.log)
    await page.reload()
    await page.setInputFiles('#f', o.files)
    result = await upload()
    result.before = before
  } else {
    result = await upload()
  }
  result.console = consoleLines.slice(-20)
  console.log(JSON.stringify(result))
} finally {
  await browser.close()
}
