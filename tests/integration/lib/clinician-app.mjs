// The clinician app (`/app`, web/) driven the way a clinician uses it: sign in, create a
// consultation and read its invite, admit the waiting patient. `keyboard` does each step with
// the keyboard only (focus, type, Tab, Enter) instead of fill/click.
import { launchBrowser } from './browser.mjs';
import { startStack } from './stack.mjs';

const FAKE_MEDIA = { fakeMedia: true, ignoreHTTPSErrors: true };

// A fake-media Chromium; when it cannot start, `undo` first stops what was started before it.
async function launchOrUndo(undo) {
  try {
    return await launchBrowser(FAKE_MEDIA);
  } catch (error) {
    await undo();
    throw error;
  }
}

// Opens `/app` (`query` e.g. '?relay=1') and signs in; resolves once the dashboard shows.
export async function signIn(app, origin, { username, password }, { query = '', keyboard = false } = {}) {
  await app.goto(`${origin}/app${query}`);
  await app.waitForSelector('#sign-in:not([hidden])');
  if (keyboard) {
    await app.focus('#username');
    await app.keyboard.type(username);
    await app.keyboard.press('Tab');
    await app.keyboard.type(password);
    await app.keyboard.press('Enter');
  } else {
    await app.fill('#username', username);
    await app.fill('#password', password);
    await app.press('#password', 'Enter');
  }
  await app.waitForSelector('#dashboard:not([hidden])');
}

// Creates a consultation from the dashboard: { inviteUrl, invite (the code), consultation (id) }.
export async function createConsultation(app, { keyboard = false } = {}) {
  if (keyboard) {
    await app.focus('#create');
    await app.keyboard.press('Enter');
  } else {
    await app.click('#create');
  }
  await app.waitForSelector('#consultation:not([hidden])');
  const inviteUrl = await app.inputValue('#invite-url');
  return { inviteUrl, invite: inviteUrl.split('#invite=')[1],
    consultation: await app.evaluate(() => window.veilApp.consultation) };
}

// Signs in and creates a consultation (the usual first step of a consultation test).
export async function openConsultation(app, origin, clinician, options = {}) {
  await signIn(app, origin, clinician, options);
  return createConsultation(app, options);
}

// Admits the first patient in the waiting list ("Admit" is the first button of an entry).
export async function admitFirstWaiting(app, { timeout = 15000 } = {}) {
  await app.waitForSelector('#waiting li', { timeout });
  await app.click('#waiting li button');
}

// A clinician and a patient stand-in, each in its own fake-media Chromium with its first page.
export async function launchClinicianAndPatient() {
  const clinicianBrowser = await launchBrowser(FAKE_MEDIA);
  const patientBrowser = await launchOrUndo(() => clinicianBrowser.close());
  return {
    clinicianBrowser,
    patientBrowser,
    app: await clinicianBrowser.context.newPage(),
    patient: await patientBrowser.context.newPage(),
    async close() {
      await clinicianBrowser.close();
      await patientBrowser.close();
    },
  };
}

// The stack (startStack options) with a clinician's Chromium page on it; stop() closes both.
export async function startClinicianStack(stackOptions) {
  const stack = await startStack(stackOptions);
  const browser = await launchOrUndo(() => stack.stop());
  return {
    stack,
    browser,
    app: await browser.context.newPage(),
    async stop() {
      await browser.close();
      await stack.stop();
    },
  };
}
