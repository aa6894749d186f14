// Drive ownCloud Web 12.5.0 (served by spacedav) in headless Chromium through playwright-core,
// for tests/clients/web_ui.rs. Selectors follow Web's own end-to-end tests; every wait is for a
// selector or a response, never for time.
//
// Usage: node driver.mjs '<json>' with {chromium, base, shots (dir), file (the large upload),
//   small (the upload into the project space), team (project space name),
//   users: {admin, editor, viewer: {name, password}}}.
// Prints {"checkpoint": name} lines (answered on stdin), then one JSON line:
//   {steps: [...], responses: [[method, status, path]...], size, viewerUploadDisabled, error?}.
import path from 'node:path'
import readline from 'node:readline'
import { chromium } from 'playwright-core'

const o = JSON.parse(process.argv[2])
const TIMEOUT = 60000
const report = { steps: [], responses: [] }
const browser = await chromium.launch({
  executablePath: o.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
context.setDefaultTimeout(TIMEOUT)
const page = await context.newPage()
const origin = new URL(o.base).origin
page.on('response', (r) => {
  const u = new URL(r.url())
  if (u.origin === origin) report.responses.push([r.request().method(), r.status(), u.pathname])
})

// Lets the Rust test look at the server between steps: prints {"checkpoint": name} and waits
// for a line on stdin.
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
  const file = path.join(o.shots, `${String(n).padStart(2, '0')}-${name}.png`)
  await page.screenshot({ path: file })
  report.steps.push(name)
}

const resource = (name) => page.locator(`#files-space-table [data-test-resource-name="${name}"]`)
const confirm = () => page.locator('.oc-modal-body-actions-confirm')

async function signIn (user) {
  await page.goto(o.base + '/')
  // Web sends the browser to the provider's sign-in page (or shows its own login card first).
  const form = page.locator('#username')
  const loginButton = page.locator('#exitAnchor, .oc-login-authorize-button, button:has-text("Log in")')
  await form.or(loginButton).first().waitFor()
  if (!(await form.isVisible())) await loginButton.first().click()
  await form.fill(user.name)
  await page.locator('#password').fill(user.password)
  await page.locator('#submit').click()
  await page.locator('#files-view, #files-space-table, .no-content-message').first().waitFor()
}

async function signOut () {
  await page.locator('#_userMenuButton').click()
  await page.locator('#oc-topbar-account-logout').click()
  await page.locator('#username, #exitAnchor, .oc-login-authorize-button, button:has-text("Log in")').first().waitFor()
}

async function upload (file) {
  await page.locator('#upload-menu-btn').click()
  await page.locator('#files-file-upload-input').setInputFiles(file)
  await page.keyboard.press('Escape')
  await page.getByText('Upload complete', { exact: true }).waitFor({ timeout: 180000 })
  await page.locator('#close-upload-info-btn, #close-upload-bar-btn').first().click()
  await resource(path.basename(file)).waitFor()
}

async function openProjectSpace (name) {
  await page.goto(o.base + '/files/spaces/projects')
  const card = page.locator(`[data-test-space-name="${name}"], .oc-tile-card:has-text("${name}") a, td:has-text("${name}") a`).first()
  await card.waitFor()
  await card.click()
  await page.locator('#files-view').waitFor()
  await page.locator(`.oc-breadcrumb:has-text("${name}"), #files-breadcrumb:has-text("${name}")`).first().waitFor()
}

try {
  const big = path.basename(o.file)
  const renamed = 'renamed-' + big
  await step('signed-in-personal-space', () => signIn(o.users.admin))
  await step('folder-created', async () => {
    await page.locator('#new-file-menu-btn').click()
    await page.locator('#new-folder-btn').click()
    await page.locator('.oc-modal input').fill('Created in Web')
    await confirm().click()
    await resource('Created in Web').waitFor()
  })
  await step('file-uploaded', () => upload(o.file))
  report.size = (await resource(big).locator('xpath=ancestor::tr').locator('.oc-table-data-cell-size').innerText()).trim()
  await step('file-list', async () => {})
  await checkpoint('uploaded')
  await step('file-renamed', async () => {
    await resource(big).click({ button: 'right' })
    await page.locator('.oc-files-actions-rename-trigger').first().click()
    await page.locator('.oc-modal input').fill(renamed)
    await confirm().click()
    await resource(renamed).waitFor()
  })
  report.renamed = renamed
  await step('file-deleted', async () => {
    await resource(renamed).click({ button: 'right' })
    await page.locator('.oc-files-actions-delete-trigger').first().click()
    if (await confirm().isVisible().catch(() => false)) await confirm().click()
    await resource(renamed).waitFor({ state: 'detached' })
  })
  await step('signed-out', () => signOut())
  await step('signed-in-again', () => signIn(o.users.admin))
  await step('account-language-german', async () => {
    await page.goto(o.base + '/account')
    const row = page.locator('tr', { hasText: 'Select your language' })
    await row.locator('.vs__dropdown-toggle').click()
    await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/me')),
      page.locator('.vs__dropdown-option', { hasText: 'Deutsch' }).first().click(),
    ])
    await page.getByText('Mein Konto').first().waitFor()
  })
  await step('signed-out-admin', () => signOut())

  await step('editor-sees-project-space', async () => {
    await signIn(o.users.editor)
    await openProjectSpace(o.team)
  })
  await step('editor-uploaded', () => upload(o.small))
  await checkpoint('editor-uploaded')
  await step('signed-out-editor', () => signOut())

  await step('viewer-sees-project-space', async () => {
    await signIn(o.users.viewer)
    await openProjectSpace(o.team)
    await resource(path.basename(o.small)).waitFor()
  })
  // What the viewer sees: the upload button is there but disabled.
  report.viewerUploadDisabled = await page.locator('#upload-menu-btn').isDisabled()
} catch (e) {
  report.error = String(e && e.stack || e)
  await page.screenshot({ path: path.join(o.shots, 'failure.png') }).catch(() => {})
} finally {
  lines.close()
  await browser.close()
}
console.log(JSON.stringify(report))
