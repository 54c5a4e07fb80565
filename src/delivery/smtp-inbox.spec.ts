import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import nodemailer from 'nodemailer';
import { SmtpInbox } from './smtp-inbox';

describe('SmtpInbox kept in a directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inbox-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps mails across a restart and shows the HTML, the text part and the raw source', async () => {
    const first = new SmtpInbox('127.0.0.1', dir);
    await first.start(0, 0);
    await nodemailer
      .createTransport({ host: '127.0.0.1', port: first.smtpPort, secure: false, ignoreTLS: true })
      .sendMail({
        from: 'no-reply@voyages.test',
        to: 'camille@voyages.test',
        subject: 'Bonjour',
        text: 'Texte brut',
        html: '<p>Texte <b>riche</b></p>',
      });
    await first.waitFor(() => true);
    await first.stop();

    const second = new SmtpInbox('127.0.0.1', dir);
    await second.start(0, 0);
    try {
      expect(second.messages).toHaveLength(1);
      const [mail] = second.messages;
      expect(mail).toMatchObject({
        id: 1,
        envelopeTo: ['camille@voyages.test'],
        envelopeFrom: 'no-reply@voyages.test',
      });
      expect(mail.parsed.subject).toBe('Bonjour');
      const base = `http://127.0.0.1:${second.webPort}`;
      expect(await (await fetch(`${base}/messages/1`)).text()).toContain('<b>riche</b>');
      expect(await (await fetch(`${base}/messages/1.txt`)).text()).toContain('Texte brut');
      expect(await (await fetch(`${base}/messages/1.eml`)).text()).toMatch(/^Subject: Bonjour/m);
      const page = await (await fetch(base)).text();
      expect(page).not.toContain('http-equiv="refresh"');
      expect(await (await fetch(`${base}/api/messages`)).json()).toEqual([
        expect.objectContaining({ id: 1, subject: 'Bonjour' }),
      ]);
    } finally {
      await second.stop();
    }
  });

  it('names its directory relative to the project, as the banner does', async () => {
    // The project is the working directory of `npm start`.
    const cwd = jest.spyOn(process, 'cwd').mockReturnValue(join(dir, '..'));
    const inbox = new SmtpInbox('127.0.0.1', join(dir, 'inbox'));
    await inbox.start(0, 0);
    try {
      const page = await (await fetch(`http://127.0.0.1:${inbox.webPort}`)).text();
      expect(page).toContain(`kept in ${basename(dir)}/inbox across restarts`);
      expect(page).not.toContain(dir);
    } finally {
      cwd.mockRestore();
      await inbox.stop();
    }
  });
});
