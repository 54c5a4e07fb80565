import Handlebars from 'handlebars';
import { MAIL_CATALOG } from './mail-catalog';
import { CONTACT_CATEGORIES, LOCALES, MAIL_CATEGORIES, MailCategory } from './mail-category';
import { loadLocaleCopy, LOCALE_STRINGS, MAIL_COPY, MailCopy } from './mail-copy';

const IDS = {
  publicationId: 'TRIP-2048',
  reservationId: 'RES-7731',
  organizationId: 'ORG-12',
  establishmentId: 'EST-34',
};
const FULL_VARS = {
  tripTitle: 'Randonnée dans les Calanques',
  departureDate: '14 mai 2027',
  amount: '480 €',
  organizationName: 'Évasion Provence',
  establishmentName: 'Gîte du Vieux Port',
  customerName: 'Léa Dubois',
  travellers: 2,
};

const render = (source: string, context: object): string =>
  Handlebars.compile(source, { strict: false, noEscape: true })(context);
const strings = (copy: MailCopy): string[] => [
  copy.subject,
  copy.preheader,
  copy.heading,
  ...copy.paragraphs,
  copy.buttonLabel,
];

/** Only the ids the category requires, and no optional value at all. */
function minimalContext(category: MailCategory): object {
  const ids = Object.fromEntries(MAIL_CATALOG[category].requiredIds.map((field) => [field, IDS[field]]));
  return { ...ids, category, firstName: '', vars: {} };
}
const fullContext = (category: MailCategory): object => ({
  ...IDS,
  category,
  firstName: 'Camille',
  lastName: 'Martin',
  productType: 'TRIP',
  buttonUrl: 'https://voyages.example/x',
  vars: FULL_VARS,
});
const CONTACT_FULL = {
  name: 'Jean Dupont',
  mail: 'jean@example.com',
  object: 'Remboursement',
  message: 'Bonjour,\nMerci',
  contactId: 'c-1',
  conversationId: 'c-1',
  firstName: 'Jean',
  buttonUrl: 'https://voyages.example/c',
};

/** What a rendered piece must never show: a missing value printed, or the trace of an empty placeholder. */
function expectClean(output: string): void {
  expect(output).not.toMatch(/undefined|\[object/);
  expect(output).not.toMatch(/ {2}|\s[,.]|«\s*»|“”|\(\s*\)|réf\. *$|ref\. *$/);
}

describe('mail copy', () => {
  it.each(LOCALES)('%s has copy for every category', (locale) => {
    expect(Object.keys(MAIL_COPY[locale]).sort()).toEqual([...MAIL_CATEGORIES].sort());
    for (const copy of Object.values(MAIL_COPY[locale])) {
      expect(copy.paragraphs.length).toBeGreaterThanOrEqual(1);
      expect(copy.buttonLabel.trim()).not.toBe('');
    }
  });

  it.each(LOCALES)('%s subjects are all distinct', (locale) => {
    const subjects = Object.values(MAIL_COPY[locale]).map((c) => c.subject);
    expect(new Set(subjects).size).toBe(subjects.length);
  });

  it('no string contains a triple-stash or an HTML tag', () => {
    const all = LOCALES.flatMap((locale) => [
      ...Object.values(LOCALE_STRINGS[locale]),
      ...Object.values(MAIL_COPY[locale]).flatMap(strings),
    ]);
    for (const s of all) {
      expect(s).not.toContain('{{{');
      expect(s).not.toContain('{{&');
      expect(s).not.toMatch(/<\/?[a-z!][^>]*>/i);
    }
  });

  describe.each(LOCALES)('%s renders', (locale) => {
    it.each(MAIL_CATEGORIES)('%s with and without the optional values', (category) => {
      const copy = MAIL_COPY[locale][category];
      for (const context of [{ vars: {} }, minimalContext(category), fullContext(category)]) {
        expect(render(copy.subject, context).trim()).not.toBe('');
        for (const s of strings(copy)) expect(render(s, context)).not.toMatch(/undefined|\[object/);
      }
      for (const context of [minimalContext(category), fullContext(category)])
        for (const s of strings(copy)) expectClean(render(s, context));
    });

    it.each(CONTACT_CATEGORIES)('%s with and without the optional values', (kind) => {
      const copy = MAIL_COPY[locale][kind];
      for (const context of [{}, CONTACT_FULL]) {
        expect(render(copy.subject, context).trim()).not.toBe('');
        for (const s of strings(copy)) expectClean(render(s, context));
      }
      expect(render(copy.subject, CONTACT_FULL)).toContain('Remboursement');
    });

    it('shared strings', () => {
      const s = LOCALE_STRINGS[locale];
      expect(render(s.greetingNamed, { firstName: 'Camille' })).toContain('Camille');
      // greetingNamed is only used when the first name is known.
      for (const source of Object.values(s)) expectClean(render(source, { firstName: 'Camille', vars: {} }));
    });
  });
});

describe('mail catalog', () => {
  it.each(LOCALES)('%s copy reads only the variables its category declares', (locale) => {
    for (const category of MAIL_CATEGORIES) {
      const used = new Set([...JSON.stringify(MAIL_COPY[locale][category]).matchAll(/vars\.(\w+)/g)].map((m) => m[1]));
      const declared = MAIL_CATALOG[category].variables.map((v) => v.name);
      expect({ category, used: [...used].sort() }).toEqual({
        category,
        used: [...used].filter((name) => declared.includes(name)).sort(),
      });
    }
  });

  it('a copy file with a missing or unknown key names the file and the key', () => {
    const en = JSON.parse(JSON.stringify({ strings: LOCALE_STRINGS.en, categories: MAIL_COPY.en }));
    expect(loadLocaleCopy('en', en).categories.PROFILE_COMPLETION_REQUEST.subject).toBe(
      MAIL_COPY.en.PROFILE_COMPLETION_REQUEST.subject,
    );
    delete en.categories.TRIP_REMINDER_NOTIFICATION.subject;
    expect(() => loadLocaleCopy('en', en)).toThrow(
      'src/catalog/copy/en.json: $.categories.TRIP_REMINDER_NOTIFICATION.subject is missing',
    );
    en.categories.TRIP_REMINDER_NOTIFICATION.subject = 'x';
    en.categories.TRIP_REMINDER_NOTIFICATON = en.categories.TRIP_REMINDER_NOTIFICATION;
    expect(() => loadLocaleCopy('en', en)).toThrow('TRIP_REMINDER_NOTIFICATON is not expected here');
  });
});
