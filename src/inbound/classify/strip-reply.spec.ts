import { stripReply } from './strip-reply';

describe('stripReply', () => {
  it.each([
    [
      'an answer that starts like an attribution, a blank line above the real one',
      'Le 14 juillet, 4 personnes.\n\nLe lun. 16 juin 2025 à 09:02, Voyages <no-reply@voyages.example> a écrit :\n> Bonjour',
      'Le 14 juillet, 4 personnes.',
    ],
    [
      'an answer that starts like an attribution, just above the real one',
      'Le 14 juillet, 4 personnes.\nLe lun. 16 juin 2025 à 09:02, Voyages <no-reply@voyages.example> a écrit :\n> Bonjour',
      'Le 14 juillet, 4 personnes.',
    ],
    [
      'the same in English',
      'On Monday the 14th we arrive at 10.\n\nOn Mon, Jun 16, 2025 at 9:02 AM Voyages <no-reply@voyages.example> wrote:\n> Hello',
      'On Monday the 14th we arrive at 10.',
    ],
    [
      'Gmail, French',
      'Merci !\n\nLe lun. 16 juin 2025 à 09:02, Voyages <no-reply@voyages.example> a écrit :\n\n> Bonjour',
      'Merci !',
    ],
    [
      'Gmail, French, the attribution wrapped',
      'Merci !\n\nLe lun. 16 juin 2025 à 09:02, Voyages - Service client <\nno-reply@voyages.example> a écrit :\n\n> Bonjour',
      'Merci !',
    ],
    [
      'no-break space before the colon',
      'Merci !\n\nLe 16 juin 2025 à 09:02, Voyages a\u00a0écrit\u00a0:\n> Bonjour',
      'Merci !',
    ],
    [
      'Gmail, English',
      'Thanks!\n\nOn Mon, Jun 16, 2025 at 9:02 AM Voyages <no-reply@voyages.example> wrote:\n\n> Hello',
      'Thanks!',
    ],
    [
      'Outlook, French',
      'Oui.\n\nDe : Voyages <no-reply@voyages.example>\nEnvoyé : lundi 16 juin 2025 09:02\nÀ : Marc\nObjet : Devis\n\nBonjour',
      'Oui.',
    ],
    [
      'Outlook, French, no address',
      'Oui.\n\nDe : Voyages\nEnvoyé : lundi 16 juin 2025 09:02\nÀ : Marc\n\nBonjour',
      'Oui.',
    ],
    [
      'Outlook, English, after underscores',
      'Yes.\n\n________________________________\nFrom: Voyages <no-reply@voyages.example>\nSent: Monday, June 16, 2025 9:02 AM\nTo: John\nSubject: Quote\n\nHello',
      'Yes.',
    ],
    [
      '-----Original Message-----',
      'Yes.\n\n-----Original Message-----\nFrom: Voyages [mailto:no-reply@voyages.example]\nSent: Monday\n\nHello',
      'Yes.',
    ],
    [
      '-----Message d’origine----- (ASCII apostrophe)',
      "Oui.\n\n-----Message d'origine-----\nDe : Voyages\n\nBonjour",
      'Oui.',
    ],
    ['"> " quoted lines', 'Yes.\n> Hello\n> there', 'Yes.'],
    ['"-- " signature', 'Yes.\n\n-- \nJohn Smith\n+33 6 12 34 56 78', 'Yes.'],
    ['"--" signature whose space a client dropped', 'Yes.\n\n--\nJohn Smith', 'Yes.'],
    ['a phone client line', 'Oui, merci.\n\nEnvoyé de mon iPhone', 'Oui, merci.'],
    ['Outlook mobile line', 'Yes.\n\nGet Outlook for Android<https://aka.ms/AAb9ysg>', 'Yes.'],
    [
      'an answer below the quote (bottom posting)',
      'On 16/06/2025 09:02, Voyages wrote:\n> Hello\n> How many are you?\n\nFive of us.\n\n-- \nJohn',
      'Five of us.',
    ],
    ['inline answers between quotes', '> How many?\nFive.\n> When?\nFriday.', 'Five.\nFriday.'],
    ['CRLF line ends', 'Yes.\r\n\r\nOn Mon, Jun 16, 2025 at 9:02 AM Voyages wrote:\r\n> Hello\r\n', 'Yes.'],
    ['only a quote', 'On Mon, Jun 16, 2025 at 9:02 AM Voyages wrote:\n> Hello', ''],
  ])('removes %s', (_form, text, expected) => {
    expect(stripReply(text)).toBe(expected);
  });

  it.each([
    ['a sentence starting "Le" and ending "écrit :"', 'Le guide nous a écrit :\n« Rendez-vous à 9 h »'],
    ['"From:"/"To:" lines of a journey', 'Itinerary\nFrom: Paris\nTo: Lisbon\nDate: 3 July'],
    ['a list with dashes', 'Bring:\n-passports\n-towels'],
    ['a long rule in the text', 'Programme\n==========\nJour 1 : Porto'],
  ])('keeps %s', (_form, text) => {
    expect(stripReply(text)).toBe(text);
  });

  it('keeps an undelimited signature and sign-off: nothing tells them from the text', () => {
    expect(stripReply('Oui.\n\nCordialement,\nMarc Lefèvre\nAgence Soleil')).toBe(
      'Oui.\n\nCordialement,\nMarc Lefèvre\nAgence Soleil',
    );
  });

  it('trims trailing spaces and collapses the blank lines quotes leave', () => {
    expect(stripReply('Five.  \n> a\n\n\n\n> b\nFriday.')).toBe('Five.\n\nFriday.');
  });
});
