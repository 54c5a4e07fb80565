import { Injectable, OnModuleInit } from '@nestjs/common';
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig, InjectConfig } from '../config/app.config';
import { MAIL_CATALOG } from '../catalog/mail-catalog';
import { exampleVariables, formatVariables, VariableValue } from '../catalog/mail-variables';
import { CONTACT_CATEGORIES, Locale, LOCALES, MailCategory, MailReferenceField } from '../catalog/mail-category';
import { LOCALE_STRINGS, LocaleStrings, MAIL_COPY, MailCopy } from '../catalog/mail-copy';

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
  /** Headers every sent mail carries (the contract's "Mails"): its language, and that it is automatic. */
  headers: { 'Content-Language': Locale; 'Auto-Submitted': 'auto-generated' };
}

/** What a contact mail says of its contact message (what the visitor wrote, escaped by the layout). */
export interface ContactContext {
  name: string;
  mail: string;
  object: string;
  message: string;
  contactId: string;
  conversationId: string;
}

export type TemplateContext = Record<string, unknown> & {
  firstName?: string | null;
  vars?: Record<string, VariableValue>;
  contact?: ContactContext;
  /** The unsubscribe page of a SUBSCRIPTION mail's receiver and category (footer link); absent for TRANSACTIONAL mails. */
  unsubscribeUrl?: string;
};

type Render = (context: object) => string;
interface CompiledCopy {
  subject: Render;
  preheader: Render;
  heading: Render;
  paragraphs: Render[];
  buttonLabel: Render;
}
interface CompiledLocale {
  greetingNamed: Render;
  greetingAnonymous: Render;
  signature: Render;
  footer: Render;
  buttonFallback: Render;
  help: Render;
  unsubscribe: Render;
}

const TEMPLATES_DIR = join(__dirname, 'templates');

/**
 * Renders every mail from one responsive layout. MJML is compiled to HTML when the layout changes
 * (`npm run templates`), every template is compiled by Handlebars once at start: a mail costs only
 * Handlebars renders.
 *
 * The copy renders to plain text (the values inserted are not escaped there); the HTML layout
 * then escapes each piece exactly once, so nothing a sender or a visitor wrote becomes markup.
 */
@Injectable()
export class TemplateRenderer implements OnModuleInit {
  private readonly handlebars = Handlebars.create();
  private html: Render;
  private text: Render;
  private categories: Record<Locale, Record<MailCategory, CompiledCopy>>;
  private strings: Record<Locale, CompiledLocale>;

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  onModuleInit(): void {
    // layout.html.hbs is layout.mjml compiled at build time (npm run templates), not at start.
    this.html = this.handlebars.compile(readFileSync(join(TEMPLATES_DIR, 'layout.html.hbs'), 'utf8'), {
      strict: false,
    });
    this.text = this.handlebars.compile(readFileSync(join(TEMPLATES_DIR, 'layout.txt.hbs'), 'utf8'), {
      noEscape: true,
    });
    const plain = (source: string): Render => this.handlebars.compile(source, { noEscape: true });
    const copy = (c: MailCopy): CompiledCopy => ({
      subject: plain(c.subject),
      preheader: plain(c.preheader),
      heading: plain(c.heading),
      paragraphs: c.paragraphs.map(plain),
      buttonLabel: plain(c.buttonLabel),
    });
    const compileAll = <K extends string>(entries: Record<K, MailCopy>): Record<K, CompiledCopy> =>
      Object.fromEntries((Object.keys(entries) as K[]).map((key) => [key, copy(entries[key])])) as Record<
        K,
        CompiledCopy
      >;
    const byLocale = <T>(make: (locale: Locale) => T): Record<Locale, T> =>
      Object.fromEntries(LOCALES.map((locale) => [locale, make(locale)])) as Record<Locale, T>;
    this.categories = byLocale((locale) => compileAll(MAIL_COPY[locale]));
    this.strings = byLocale((locale) => {
      const s: LocaleStrings = LOCALE_STRINGS[locale];
      return {
        greetingNamed: plain(s.greetingNamed),
        greetingAnonymous: plain(s.greetingAnonymous),
        signature: plain(s.signature),
        footer: plain(s.footer),
        buttonFallback: plain(s.buttonFallback),
        help: plain(s.help),
        unsubscribe: plain(s.unsubscribe),
      };
    });
    // Handlebars compiles each template when it first renders it. Every template is rendered by
    // template.renderer.spec.ts, so a broken one fails CI; rendering them all here too cost a
    // sixth of the start (issue 9: ready in 1.5 s).
  }

  /** The page a category's button opens: FRONTEND_BASE_URL + the category's path, ids URL-encoded; undefined when it has no button. */
  buttonUrl(
    category: MailCategory,
    ids: Partial<Record<MailReferenceField, string | null>>,
    vars: Record<string, unknown> = {},
  ): string | undefined {
    const path = MAIL_CATALOG[category].buttonPath?.replace(/\{(\w+)\}/g, (_, field: MailReferenceField) =>
      encodeURIComponent(ids[field] ?? String(vars[field] ?? '')),
    );
    return path === undefined ? undefined : this.config.mail.frontendBaseUrl + path;
  }

  /**
   * The category's mail; its declared dates, amounts and numbers are written for the locale. A
   * contact mail quotes its contact message (`contact` in the context) line by line.
   */
  renderCategory(category: MailCategory, locale: Locale, context: TemplateContext): RenderedMail {
    const quote = context.contact?.message ? context.contact.message.split(/\r?\n/) : undefined;
    return this.render(
      this.categories[locale][category],
      locale,
      { ...context, ...context.contact, vars: formatVariables(category, locale, context.vars ?? {}) },
      quote,
    );
  }

  private render(copy: CompiledCopy, locale: Locale, context: TemplateContext, quote?: string[]): RenderedMail {
    const input = { ...context, vars: context.vars ?? {} };
    const strings = this.strings[locale];
    const helpUrl = `${this.config.mail.frontendBaseUrl}/help`;
    const view = {
      lang: locale,
      subject: oneLine(copy.subject(input)),
      preheader: copy.preheader(input),
      heading: copy.heading(input),
      greeting: context.firstName ? strings.greetingNamed(input) : strings.greetingAnonymous(input),
      paragraphs: copy.paragraphs.map((p) => p(input)).filter((p) => p.trim() !== ''),
      quote,
      buttonUrl: context.buttonUrl,
      buttonLabel: copy.buttonLabel(input),
      buttonFallback: strings.buttonFallback(input),
      signature: strings.signature(input),
      footer: strings.footer(input),
      help: strings.help(input),
      helpUrl,
      unsubscribeUrl: context.unsubscribeUrl,
      unsubscribe: strings.unsubscribe(input),
    };
    const html = this.html({
      ...view,
      heading: noHyphenBreak(view.heading),
      greeting: noHyphenBreak(view.greeting),
      paragraphs: view.paragraphs.map(noHyphenBreak),
      quote: quote?.map(noHyphenBreak),
      buttonLabel: noHyphenBreak(view.buttonLabel),
      signature: noHyphenBreak(view.signature),
      footer: noHyphenBreak(view.footer),
      help: noHyphenBreak(view.help),
      unsubscribe: noHyphenBreak(view.unsubscribe),
    });
    return {
      subject: view.subject,
      html,
      text: this.text(view),
      headers: { 'Content-Language': locale, 'Auto-Submitted': 'auto-generated' },
    };
  }

  /** A preview with the category's declared example values, for ops and designers. */
  preview(category: MailCategory, locale: Locale): RenderedMail {
    return this.renderCategory(category, locale, sampleContext(category, this.buttonUrl(category, SAMPLE_IDS)));
  }
}

/**
 * Escapes a piece of copy for the HTML layout (once: the layout then takes it as is) and keeps each
 * hyphenated word on one line (`e-mail`, `RES-7731`), since mail clients would otherwise break there.
 */
function noHyphenBreak(value: string): Handlebars.SafeString {
  const escaped = Handlebars.escapeExpression(value);
  return new Handlebars.SafeString(
    escaped.replace(
      /[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)+/gu,
      (word) => `<span style="white-space: nowrap;">${word}</span>`,
    ),
  );
}

/** A subject is a header: no line breaks, whatever the data. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

const SAMPLE_IDS = {
  publicationId: 'TRIP-2048',
  reservationId: 'RES-7731',
  organizationId: 'ORG-12',
  establishmentId: 'EST-34',
};

function sampleContext(category: MailCategory, buttonUrl: string | undefined): TemplateContext {
  return {
    ...SAMPLE_IDS,
    category,
    productType: 'TRIP',
    firstName: 'Camille',
    lastName: 'Martin',
    buttonUrl,
    vars: exampleVariables(category),
    contact: (CONTACT_CATEGORIES as readonly MailCategory[]).includes(category) ? SAMPLE_CONTACT : undefined,
  };
}

const SAMPLE_CONTACT: ContactContext = {
  name: 'Camille Martin',
  mail: 'camille@example.com',
  object: 'Question sur une réservation',
  message: 'Bonjour,\nPuis-je ajouter un voyageur à ma réservation RES-7731 ?',
  contactId: '3f2b8c1e-6a4d-4e9b-8c2f-1d5e7a9b0c4d',
  conversationId: '3f2b8c1e-6a4d-4e9b-8c2f-1d5e7a9b0c4d',
};
