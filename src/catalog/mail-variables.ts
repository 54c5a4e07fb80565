import { MAIL_CATALOG, VariableDefinition } from './mail-catalog';
import { Locale, MailCategory } from './mail-category';

export interface MoneyValue {
  amount: number;
  currency: string;
}
export type VariableValue = string | number | boolean | MoneyValue;

export interface VariableProblem {
  field: string;
  issue: string;
  value?: string;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const CURRENCY = /^[A-Z]{3}$/;

export function isMoney(value: unknown): value is MoneyValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const { amount, currency } = value as Record<string, unknown>;
  return (
    keys.length === 2 &&
    typeof amount === 'number' &&
    Number.isFinite(amount) &&
    typeof currency === 'string' &&
    CURRENCY.test(currency)
  );
}

function typeProblem(definition: VariableDefinition, value: VariableValue): string | null {
  switch (definition.type) {
    case 'string':
      return typeof value === 'string' ? null : 'must be a string';
    case 'number':
      return typeof value === 'number' ? null : 'must be a number';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be a boolean';
    case 'date':
      return typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))
        ? null
        : 'must be an ISO 8601 date, e.g. 2027-03-12';
    case 'money':
      return (typeof value === 'number' && Number.isFinite(value)) || isMoney(value)
        ? null
        : 'must be a number in euros or {"amount": 12.5, "currency": "EUR"}';
  }
}

/**
 * What is wrong with a mail's `variables` for its category: a name the category does not declare,
 * a required one missing, a value of the wrong type. Each problem names the allowed variables, so
 * a typo is caught at the door and not in a customer's inbox.
 */
export function variableProblems(category: MailCategory, variables: Record<string, VariableValue>): VariableProblem[] {
  const declared = MAIL_CATALOG[category].variables;
  const allowed = declared.length ? declared.map((v) => v.name).join(', ') : 'none';
  const problems: VariableProblem[] = [];
  for (const [name, value] of Object.entries(variables)) {
    const definition = declared.find((v) => v.name === name);
    if (!definition) {
      problems.push({ field: `variables.${name}`, issue: `is not a variable of ${category} (allowed: ${allowed})` });
      continue;
    }
    const problem = typeProblem(definition, value);
    if (problem)
      problems.push({
        field: `variables.${name}`,
        issue: problem,
        value: typeof value === 'object' ? JSON.stringify(value) : String(value),
      });
  }
  for (const definition of declared) {
    if (definition.required && !(definition.name in variables))
      problems.push({
        field: `variables.${definition.name}`,
        issue: `is required for ${category} (allowed: ${allowed})`,
      });
  }
  return problems;
}

const INTL_LOCALE: Record<Locale, string> = { fr: 'fr-FR', en: 'en-US' };

/** A date written for the reader: `12 mars 2027` / `March 12, 2027` (the calendar day as given). */
export function formatDate(value: string, locale: Locale): string {
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(INTL_LOCALE[locale], {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(date);
}

/** An amount written for the reader: `1 250,00 €` / `€1,250.00`; a bare number is in euros. */
export function formatMoney(value: number | MoneyValue, locale: Locale): string {
  const { amount, currency } = typeof value === 'number' ? { amount: value, currency: 'EUR' } : value;
  return new Intl.NumberFormat(INTL_LOCALE[locale], { style: 'currency', currency }).format(amount);
}

/** The category's variables ready for the copy: dates, amounts and numbers written for the locale. */
export function formatVariables(
  category: MailCategory,
  locale: Locale,
  variables: Record<string, VariableValue>,
): Record<string, string | number | boolean> {
  const declared = MAIL_CATALOG[category].variables;
  const out: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(variables)) {
    const type = declared.find((v) => v.name === name)?.type;
    if (type === 'date' && typeof value === 'string') out[name] = formatDate(value, locale);
    else if (type === 'money' && (typeof value === 'number' || isMoney(value))) out[name] = formatMoney(value, locale);
    else if (type === 'number' && typeof value === 'number')
      out[name] = new Intl.NumberFormat(INTL_LOCALE[locale]).format(value);
    else if (typeof value !== 'object') out[name] = value;
  }
  return out;
}

/** The declared examples of a category, as a sender would post them (used by the preview). */
export function exampleVariables(category: MailCategory): Record<string, VariableValue> {
  return Object.fromEntries(MAIL_CATALOG[category].variables.map((v) => [v.name, v.example]));
}
