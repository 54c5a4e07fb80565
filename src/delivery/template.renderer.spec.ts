import { CONTACT_CATEGORIES, LOCALES, MAIL_CATEGORIES } from '../catalog/mail-category';
import { loadConfig } from '../config/app.config';
import { TemplateRenderer } from './template.renderer';

/** Every mail the service can send, rendered through the real layouts: a broken template fails here, not in a delivery. */
describe('TemplateRenderer', () => {
  const renderer = new TemplateRenderer(
    loadConfig({
      DATABASE_URL: 'postgres://u:p@localhost:5432/db',
      SMTP_URL: 'smtp://localhost:1025',
      FRONTEND_BASE_URL: 'https://voyages.example',
    }),
  );
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

    it.each(CONTACT_CATEGORIES)('%s quotes its contact message, escaped, line by line', (category) => {
      const contact = {
        name: 'Jean',
        mail: 'jean@example.com',
        object: 'Remboursement',
        message: 'Bonjour,\n<b>une</b> question.',
        contactId: 'c-1',
        conversationId: 'c-1',
      };
      const mail = renderer.renderCategory(category, locale, { firstName: 'Camille', contact });
      expect(mail.subject).toContain('Remboursement');
      expect(mail.html).toContain('&lt;b&gt;une&lt;/b&gt; question.');
      expect(mail.text).toContain('<b>une</b> question.');
      for (const part of [mail.subject, mail.html, mail.text]) expect(part).not.toMatch(/undefined|\[object |\{\{/);
    });
  });
});
