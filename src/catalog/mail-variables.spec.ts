import { MailCategory } from './mail-category';
import { exampleVariables, formatDate, formatMoney, formatVariables, variableProblems } from './mail-variables';

describe('mail variables', () => {
  it('dates and amounts are written for the locale', () => {
    expect(formatDate('2027-03-12', 'fr')).toBe('12 mars 2027');
    expect(formatDate('2027-03-12', 'en')).toBe('March 12, 2027');
    expect(formatDate('2027-03-12T23:30:00.000Z', 'en')).toBe('March 12, 2027');
    expect(formatMoney({ amount: 1250, currency: 'EUR' }, 'fr').replace(/[\u00a0\u202f]/g, ' ')).toBe('1 250,00 €');
    expect(formatMoney(1250, 'en')).toBe('€1,250.00');
    expect(formatMoney({ amount: 99.5, currency: 'USD' }, 'en')).toBe('$99.50');
  });

  it('formats only what the category declares, by its type', () => {
    const out = formatVariables(MailCategory.CLIENT_TRIP_BOOKING_NOTIFICATION, 'en', {
      departureDate: '2027-05-14',
      amount: 480,
      travellers: 1200,
      tripTitle: '2027-05-14',
    });
    expect(out).toEqual({
      departureDate: 'May 14, 2027',
      amount: '€480.00',
      travellers: '1,200',
      tripTitle: '2027-05-14',
    });
  });

  it('an unknown name, a wrong type or a missing required variable is a problem naming the allowed ones', () => {
    const problems = variableProblems(MailCategory.CLIENT_PAYMENT_NOTIFICATION, {
      amount: { amount: 10, currency: 'EUR' },
      tripTitel: 'x',
    });
    expect(problems).toEqual([
      {
        field: 'variables.tripTitel',
        issue: 'is not a variable of CLIENT_PAYMENT_NOTIFICATION (allowed: amount, tripTitle)',
      },
    ]);
    expect(variableProblems(MailCategory.TRIP_REMINDER_NOTIFICATION, { departureDate: 'tomorrow' })[0]).toMatchObject({
      field: 'variables.departureDate',
      value: 'tomorrow',
    });
    expect(variableProblems(MailCategory.PROFILE_COMPLETION_REQUEST, { a: 1 })[0].issue).toContain('(allowed: none)');
    expect(
      variableProblems(MailCategory.PARTNER_PAYMENT_NOTIFICATION, { amount: { amount: 1, currency: 'euro' } }),
    ).toHaveLength(1);
  });

  it.each(Object.values(MailCategory))('%s: its declared examples are valid', (category) => {
    expect(variableProblems(category, exampleVariables(category))).toEqual([]);
  });
});
