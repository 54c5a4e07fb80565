import { LOCALES, MAIL_CATEGORIES } from '../catalog/mail-category';
import { CONTACT_MAIL_KINDS } from '../catalog/mail-copy';
import { loadConfig } from '../config/app.config';
import { TemplateRenderer } from './template.renderer';

/** Every mail the service can send, rendered through the real layouts: a broken template fails here, not in a delivery. */
describe('TemplateRenderer', () => {
  const renderer = new TemplateRenderer(loadConfig({ DATABASE_URL: 'postgres://u:p@localhost:5432/db', SMTP_URL: 'smtp://localhost:1025', FRONTEND_BASE_URL: 'https://voyages.example' }));
  renderer.onModuleInit();

  describe.each(LOCALES)('%s', (locale) => {
    it.each(MAIL_CATEGORIES)('%s', (category) => {
      const mail = renderer.preview(category, locale);
      expect(mail.subject.trim()).not.toBe('');
      expect(mail.html).toContain('<html');
      expect(mail.html).toContain('Camille');
      expect(mail.text).toContain('https://voyages.example/');
      expect(mail.headers['Content-Language']).toBe(locale);
      for (const part of [mail.subject, mail.html, mail.text]) expect(part).not.toMatch(/undefined|\[object |\{\{/);
    });

    it.each(CONTACT_MAIL_KINDS)('%s', (kind) => {
      const mail = renderer.renderContact(kind, locale, { firstName: 'Camille', message: 'Bonjour,\nune question.' });
      expect(mail.subject.trim()).not.toBe('');
      expect(mail.html).toContain('une question.');
      for (const part of [mail.subject, mail.html, mail.text]) expect(part).not.toMatch(/undefined|\[object |\{\{/);
    });
  });
});
