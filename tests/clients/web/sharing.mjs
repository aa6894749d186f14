// Drive ownCloud Web 12.5.0's sharing pages (served by spacedav) in headless Chromium, for
// tests/clients/web_sharing.rs: a view link opened with no session and its file downloaded; a
// file-drop link's public upload page taking a large file over tus, interrupted and resumed
// after a reload; a folder shared with a user, found under "Shared with me", uploaded into as
// editor and read-only as viewer. Every wait is for a selector, a response or an event.
//
// Usage: node sharing.mjs '<json>' with {chromium, base, shots (dir), dropLink (URL),
//   admin: {name, password}, drop (the large file), small (the editor's upload), download (where to save),
//   editable, readonly (folder names), user: {name, password}}.
// Prints {"checkpoint": name} lines (answered on stdin), then one JSON line:
//   {steps: [...], viewLinkType, downloaded, afterReload: [[method, status, path]...],
//    viewerUploadDisabled, error?}.
import path from 'node:path'
import fs from 'node:fs'
import readline from 'node:readline'
import { chromium } from 'playwright-core'

const o = JSON.parse(process.argv[2])
const TIMEOUT = 60000
const report = { steps: [] }
const browser = await chromium.launch({
  executablePath: o.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const origin = new URL(o.base).origin
let page

// Each part runs in its own context: no cookies, no storage, no session from another part.
async function freshPage () {
  if (page) await page.context().close()
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true })
  context.setDefaultTimeout(TIMEOUT)
  page = await context.newPage()
  return page
}

const lines = readline.createInterface({ input: process.stdin })
const stdin = lines[Symbol.asyncIterator]()
async function checkpoint (name) {
  console.log(JSON.stringify({ checkpoint: name }))
  await stdin.next()
}

let n = 0
async function step (name, fn) {
  await fn()
  n += 1
  await page.screenshot({ path: path.join(o.shots, `${String(n).padStart(2, '0')}-${name}.png`) })
  report.steps.push(name)
}

const confirm = () => page.locator('.oc-modal-body-actions-confirm')
const resource = (name) => page.locator(`#files-space-table [data-test-resource-name="${name}"]`)
// A tus PATCH: `r` is a request or a response.
const isPatch = (r) => {
  const q = r.request ? r.request() : r
  return q.method() === 'PATCH' && new URL(q.url()).pathname.startsWith('/data/')
}

async function signIn (user) {
  await page.goto(o.base + '/')
  const form = page.locator('#username')
  const loginButton = page.locator('#exitAnchor, .oc-login-authorize-button, button:has-text("Log in")')
  await form.or(loginButton).first().waitFor()
  if (!(await form.isVisible())) await loginButton.first().click()
  await form.fill(user.name)
  await page.locator('#password').fill(user.password)
  await page.locator('#submit').click()
  await page.locator('#files-view, #files-space-table, .no-content-message').first().waitFor()
}

try {
  // 1. The admin creates a view link in Web's share panel; opened with no session, Web's
  // public page shows the file and its download action hands the browser the bytes.
  await freshPage()
  let viewLink
  await step('view-link-created', async () => {
    await signIn(o.admin)
    // The share panel's "Add link" (a view link by default, confirmed in its modal if Web
    // shows one); the URL is read from Web's createLink answer.
    const row = resource(path.basename(o.download)).locator('xpath=ancestor::tr')
    await row.locator('.oc-table-data-cell-actions button').first().click()
    const created = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/createLink'))
    await page.locator('#files-file-link-add, button:has-text("Add link")').first().click()
    await Promise.race([created, confirm().waitFor()])
    if (await confirm().isVisible()) await confirm().click()
    const link = await (await created).json()
    viewLink = o.base + '/s/' + link.link.webUrl.split('/').pop()
    report.viewLinkType = link.link.type
  })
  await freshPage()
  await step('view-link-opened', async () => {
    await page.goto(viewLink)
    await resource(path.basename(o.download)).waitFor()
  })
  await step('view-link-downloaded', async () => {
    await resource(path.basename(o.download)).click({ button: 'right' })
    const button = page.locator('.oc-files-actions-download-file-trigger').first()
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()])
    await download.saveAs(o.download)
    report.downloaded = o.download
  })

  // 2. The file drop: Web's public upload page sends the file over tus. The proxy-side route
  // lets the first PATCH through and refuses the rest (as a dropped connection would), the
  // page is reloaded and the file chosen again.
  await freshPage()
  await step('drop-page', async () => {
    await page.goto(o.dropLink)
    await page.locator('#files-drop-container, .file-drop-container, input[type="file"]').first().waitFor({ state: 'attached' })
  })
  let patched = 0
  let cut = false
  const tusData = (u) => u.pathname.startsWith('/data/')
  await page.route(tusData, async (route) => {
    if (route.request().method() !== 'PATCH') return route.continue()
    if (patched >= 1) {
      cut = true
      return route.abort('connectionreset')
    }
    patched += 1
    return route.continue()
  })
  await step('drop-interrupted', async () => {
    const first = page.waitForResponse((r) => isPatch(r) && r.status() === 204)
    await page.locator('input[type="file"]').first().setInputFiles(o.drop)
    await first
    while (!cut) await page.waitForRequest((r) => isPatch(r))
  })
  await page.unroute(tusData)
  const afterReload = []
  report.afterReload = afterReload
  page.on('response', (r) => {
    const u = new URL(r.url())
    if (u.origin === origin) afterReload.push([r.request().method(), r.status(), u.pathname])
  })
  await step('drop-resumed', async () => {
    await page.reload()
    await page.locator('input[type="file"]').first().waitFor({ state: 'attached' })
    const size = fs.statSync(o.drop).size
    const done = page.waitForResponse((r) => isPatch(r) && r.status() === 204 &&
      Number(r.headers()['upload-offset']) === size, { timeout: 180000 })
    await page.locator('input[type="file"]').first().setInputFiles(o.drop)
    await done
  })
  await checkpoint('dropped')

  // 3. The share: the recipient signs in and finds both folders under "Shared with me".
  await freshPage()
  await step('shared-with-me', async () => {
    await signIn(o.user)
    await page.goto(o.base + '/files/shares/with-me')
    await page.locator(`[data-test-resource-name="${o.editable}"]`).first().waitFor()
    await page.locator(`[data-test-resource-name="${o.readonly}"]`).first().waitFor()
  })
  await step('editor-share-upload', async () => {
    await page.locator(`[data-test-resource-name="${o.editable}"]`).first().click()
    await page.locator('#files-view').waitFor()
    await page.locator('#upload-menu-btn').click()
    await page.locator('#files-file-upload-input').setInputFiles(o.small)
    await page.keyboard.press('Escape')
    await page.getByText('Upload complete', { exact: true }).waitFor({ timeout: 180000 })
    await page.locator('#close-upload-info-btn, #close-upload-bar-btn').first().click()
    await resource(path.basename(o.small)).waitFor()
  })
  await checkpoint('share-uploaded')
  await step('viewer-share-open', async () => {
    await page.goto(o.base + '/files/shares/with-me')
    await page.locator(`[data-test-resource-name="${o.readonly}"]`).first().click()
    await page.locator('#files-view').waitFor()
    await page.locator('#upload-menu-btn').waitFor()
  })
  report.viewerUploadDisabled = await page.locator('#upload-menu-btn').isDisabled()
} catch (e) {
  report.error = String(e && e.stack || e)
  if (page) await page.screenshot({ path: path.join(o.shots, 'failure.png') }).catch(() => {})
} finally {
  lines.close()
  await browser.close()
}
console.log(JSON.stringify(report))
