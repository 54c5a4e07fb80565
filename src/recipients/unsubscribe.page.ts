import { Locale } from '../catalog/mail-category';

/**
 * The unsubscribe page (contract A3): plain HTML in the receiver's locale, no script, no remote
 * resource; the GET changes nothing (link scanners open links) and offers a real form whose button
 * POSTs to the same URL. Served with UNSUBSCRIBE_PAGE_CSP.
 */
export const UNSUBSCRIBE_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** What each SUBSCRIPTION category is, as the receiver knows it. */
const CATEGORY_NAMES: Record<Locale, Record<string, string>> = {
  fr: {
    PROFILE_COMPLETION_REQUEST: 'les rappels pour compléter votre profil',
    ORGANIZATION_INFO_COMPLETION_REQUEST: 'les rappels pour compléter les informations de votre organisation',
    ESTABLISHMENT_INFO_COMPLETION_REQUEST: 'les rappels pour compléter les informations de votre établissement',
    TRIP_DRAFT_PUBLICATION_REQUEST: 'les rappels pour publier vos brouillons de voyage',
    CONVERSATION_UNREAD_MESSAGES: 'les résumés de vos messages non lus',
  },
  en: {
    PROFILE_COMPLETION_REQUEST: 'reminders to complete your profile',
    ORGANIZATION_INFO_COMPLETION_REQUEST: "reminders to complete your organisation's details",
    ESTABLISHMENT_INFO_COMPLETION_REQUEST: "reminders to complete your establishment's details",
    TRIP_DRAFT_PUBLICATION_REQUEST: 'reminders to publish your trip drafts',
    CONVERSATION_UNREAD_MESSAGES: 'digests of your unread messages',
  },
};

const TEXT = {
  fr: {
    title: 'Désabonnement',
    offer: (what: string) =>
      `Vous ne recevrez plus par e-mail ${what}. Les e-mails liés à vos réservations, paiements et comptes continueront de vous parvenir.`,
    button: 'Me désabonner',
    done: (what: string) => `C’est fait : vous ne recevrez plus par e-mail ${what}.`,
    already: (what: string) => `Vous êtes désabonné(e) : vous ne recevez plus par e-mail ${what}.`,
    notFound: 'Ce lien de désabonnement n’est pas valide.',
    notFoundHelp: 'Vérifiez qu’il a été copié en entier depuis l’e-mail.',
  },
  en: {
    title: 'Unsubscribe',
    offer: (what: string) =>
      `You will no longer receive ${what} by email. Mails about your bookings, payments and account will still reach you.`,
    button: 'Unsubscribe me',
    done: (what: string) => `Done: you will no longer receive ${what} by email.`,
    already: (what: string) => `You are unsubscribed: you no longer receive ${what} by email.`,
    notFound: 'This unsubscribe link is not valid.',
    notFoundHelp: 'Check that it was copied whole from the email.',
  },
} as const;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(locale: Locale, title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}button{font:inherit;padding:.6rem 1.2rem;border:2px solid #1a1a1a;border-radius:.3rem;background:#fff;cursor:pointer}button:focus{outline:3px solid #0a58ca;outline-offset:2px}</style>
</head>
<body>
<main>
<h1>${escape(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

function what(locale: Locale, category: string): string {
  return CATEGORY_NAMES[locale][category] ?? category;
}

/** The page of a GET: the offer and its button, or that it is done already. */
export function unsubscribePage(locale: Locale, token: string, category: string, subscribed: boolean): string {
  const t = TEXT[locale];
  if (!subscribed) return page(locale, t.title, `<p role="status">${escape(t.already(what(locale, category)))}</p>`);
  // The form posts to this very URL (a relative action: right behind any proxy prefix).
  return page(
    locale,
    t.title,
    `<form method="post" action="${escape(token)}" enctype="application/x-www-form-urlencoded">
<p id="offer">${escape(t.offer(what(locale, category)))}</p>
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<input type="hidden" name="source" value="page">
<button type="submit" aria-describedby="offer">${escape(t.button)}</button>
</form>`,
  );
}

/** The confirmation after the page's button. */
export function unsubscribedPage(locale: Locale, category: string): string {
  const t = TEXT[locale];
  return page(locale, t.title, `<p role="status">${escape(t.done(what(locale, category)))}</p>`);
}

/** A token that names nothing (404). */
export function unknownTokenPage(locale: Locale): string {
  const t = TEXT[locale];
  return page(locale, t.title, `<p>${escape(t.notFound)}</p>\n<p>${escape(t.notFoundHelp)}</p>`);
}
