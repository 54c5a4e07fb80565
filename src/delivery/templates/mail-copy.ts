import { Locale, MailCategory } from '../../mails/mail-category';

/**
 * The words of every mail, in French (the default) and English.
 *
 * Every string is a Handlebars template that renders to PLAIN TEXT: it is compiled with
 * `noEscape`, and the layout (layout.mjml, layout.txt.hbs) escapes each rendered piece exactly once.
 * So: no HTML here, no triple-stash, and only the built-in helpers (if, unless, each, with).
 *
 * Context of MAIL_COPY and LOCALE_STRINGS: firstName (may be empty), lastName, category,
 * publicationId, reservationId, organizationId, establishmentId, productType, buttonUrl, and `vars`
 * (optional values given by the sender: tripTitle, organizationName, establishmentName,
 * departureDate, amount, customerName, travellers). Every optional value is wrapped in {{#if}} so a
 * mail reads naturally without it. Ids a category requires (see CATEGORY_RULES) are always present.
 *
 * Context of CONTACT_COPY: name, mail, object, message, contactId, conversationId, firstName and
 * buttonUrl (may be empty: then no button is shown, so no paragraph mentions one). The visitor's
 * message is never in the copy: the layout prints it as a quoted block after the paragraphs.
 */
export interface MailCopy {
  subject: string;
  preheader: string;
  heading: string;
  paragraphs: string[];
  buttonLabel: string;
}

export interface LocaleStrings {
  greetingNamed: string;
  greetingAnonymous: string;
  signature: string;
  footer: string;
  buttonFallback: string;
}

export type ContactMailKind = 'CONTACT_FORWARD' | 'CONTACT_ACKNOWLEDGEMENT' | 'CONTACT_REPLY';

/**
 * French typography: a non-breaking space before « : ; ! ? » and inside guillemets. The French
 * copy below is written with ordinary spaces and passed through this once, at load.
 */
function frenchSpacing(source: string): string {
  return source.replace(/ ([:;!?»])/g, '\u00a0$1').replace(/« /g, '«\u00a0');
}

function frenchCopy<K extends string>(copies: Record<K, MailCopy>): Record<K, MailCopy> {
  const entries = (Object.keys(copies) as K[]).map((key): [K, MailCopy] => {
    const c = copies[key];
    return [
      key,
      {
        subject: frenchSpacing(c.subject),
        preheader: frenchSpacing(c.preheader),
        heading: frenchSpacing(c.heading),
        paragraphs: c.paragraphs.map(frenchSpacing),
        buttonLabel: frenchSpacing(c.buttonLabel),
      },
    ];
  });
  return Object.fromEntries(entries) as Record<K, MailCopy>;
}

// ---------------------------------------------------------------------------------------------
// Reusable fragments
// ---------------------------------------------------------------------------------------------

/** "le voyage « Titre »" / "le voyage réf. TRIP-1" — for categories that require publicationId. */
const FR_TRIP = 'le voyage {{#if vars.tripTitle}}« {{vars.tripTitle}} »{{else}}réf. {{publicationId}}{{/if}}';
const FR_OF_TRIP = 'du voyage {{#if vars.tripTitle}}« {{vars.tripTitle}} »{{else}}réf. {{publicationId}}{{/if}}';
/** " pour le voyage « Titre »", or nothing — for categories where publicationId is optional. */
const frTripOptional = (prefix: string): string =>
  `{{#if vars.tripTitle}} ${prefix} voyage « {{vars.tripTitle}} »{{else if publicationId}} ${prefix} voyage réf. {{publicationId}}{{/if}}`;
const FR_ORGANIZATION = '{{#if vars.organizationName}}l’organisation {{vars.organizationName}}{{else}}votre organisation{{/if}}';
const FR_ESTABLISHMENT = '{{#if vars.establishmentName}}l’établissement {{vars.establishmentName}}{{else}}votre établissement{{/if}}';
const FR_BOOKING_FACTS =
  'Référence de réservation : {{reservationId}}{{#if vars.travellers}} · Voyageurs : {{vars.travellers}}{{/if}}{{#if vars.amount}} · Montant : {{vars.amount}}{{/if}}';

const EN_TRIP = 'the trip {{#if vars.tripTitle}}“{{vars.tripTitle}}”{{else}}ref. {{publicationId}}{{/if}}';
const enTripOptional = (prefix: string): string =>
  `{{#if vars.tripTitle}} ${prefix} the trip “{{vars.tripTitle}}”{{else if publicationId}} ${prefix} the trip ref. {{publicationId}}{{/if}}`;
/** " (“Title”)" / " (trip ref. TRIP-1)", or nothing — for categories where publicationId is optional. */
const EN_TRIP_IN_BRACKETS = '{{#if vars.tripTitle}} (“{{vars.tripTitle}}”){{else if publicationId}} (trip ref. {{publicationId}}){{/if}}';
const EN_ORGANIZATION = '{{#if vars.organizationName}}the organization {{vars.organizationName}}{{else}}your organization{{/if}}';
const EN_ESTABLISHMENT = '{{#if vars.establishmentName}}the establishment {{vars.establishmentName}}{{else}}your establishment{{/if}}';
const EN_BOOKING_FACTS =
  'Booking reference: {{reservationId}}{{#if vars.travellers}} · Travellers: {{vars.travellers}}{{/if}}{{#if vars.amount}} · Amount: {{vars.amount}}{{/if}}';

// ---------------------------------------------------------------------------------------------
// Shared pieces of every mail
// ---------------------------------------------------------------------------------------------

export const LOCALE_STRINGS: Record<Locale, LocaleStrings> = {
  fr: {
    greetingNamed: 'Bonjour {{firstName}},',
    greetingAnonymous: 'Bonjour,',
    signature: 'L’équipe Voyages',
    footer: frenchSpacing('Message automatique envoyé par Voyages, votre plateforme de réservation de voyages.'),
    buttonFallback: frenchSpacing('Si le bouton ne fonctionne pas, copiez ce lien dans votre navigateur :'),
  },
  en: {
    greetingNamed: 'Hello {{firstName}},',
    greetingAnonymous: 'Hello,',
    signature: 'The Voyages team',
    footer: 'Automated message sent by Voyages, your travel booking platform.',
    buttonFallback: 'If the button doesn’t work, copy this link into your browser:',
  },
};

// ---------------------------------------------------------------------------------------------
// The 18 categories
// ---------------------------------------------------------------------------------------------

const FR_MAILS: Record<MailCategory, MailCopy> = {
  PROFILE_COMPLETION_REQUEST: {
    subject: 'Complétez votre profil Voyages',
    preheader: 'Quelques informations manquent encore à votre profil : cela ne prend que quelques minutes.',
    heading: 'Votre profil est presque complet',
    paragraphs: [
      'Il manque encore quelques informations à votre profil Voyages.',
      'Un profil complet facilite vos réservations et vos échanges sur la plateforme. Cela ne prend que quelques minutes.',
    ],
    buttonLabel: 'Compléter mon profil',
  },
  ORGANIZATION_CREATION_REQUEST: {
    subject: 'Nous avons bien reçu votre demande de création d’organisation',
    preheader: 'Notre équipe examine votre demande : vous recevrez un e-mail dès son activation.',
    heading: 'Votre demande est en cours d’examen',
    paragraphs: [
      `Nous avons bien reçu la demande de création de ${FR_ORGANIZATION} sur Voyages. Merci de votre confiance !`,
      'Notre équipe l’examine actuellement. Vous recevrez un e-mail dès que votre organisation sera activée.',
      'En attendant, vous pouvez consulter sa fiche et vérifier que toutes les informations sont exactes et complètes.',
    ],
    buttonLabel: 'Voir mon organisation',
  },
  ESTABLISHMENT_CREATION_REQUEST: {
    subject: 'Nous avons bien reçu votre demande de création d’établissement',
    preheader: 'Notre équipe vérifie votre demande : vous recevrez un e-mail dès l’activation de votre établissement.',
    heading: 'Votre établissement est en cours de validation',
    paragraphs: [
      `Nous avons bien reçu la demande de création de ${FR_ESTABLISHMENT} sur Voyages{{#if vars.organizationName}}, rattaché à {{vars.organizationName}}{{/if}}. Merci de votre confiance !`,
      'Notre équipe la vérifie actuellement. Vous recevrez un e-mail dès que votre établissement sera activé et visible des voyageurs.',
      'En attendant, vous pouvez consulter sa fiche et compléter sa présentation, ses coordonnées et ses informations pratiques.',
    ],
    buttonLabel: 'Voir mon établissement',
  },
  ORGANIZATION_INFO_COMPLETION_REQUEST: {
    subject: 'Action requise : complétez les informations de votre organisation',
    preheader: `Quelques informations sont nécessaires pour finaliser ${FR_ORGANIZATION}.`,
    heading: 'Encore quelques informations',
    paragraphs: [
      `Pour finaliser ${FR_ORGANIZATION}, nous avons besoin de quelques informations complémentaires.`,
      'Rendez-vous sur sa fiche pour vérifier les éléments manquants et les compléter. Votre organisation pourra être activée dès que son dossier sera complet.',
    ],
    buttonLabel: 'Compléter les informations',
  },
  ESTABLISHMENT_INFO_COMPLETION_REQUEST: {
    subject: 'Action requise : complétez les informations de votre établissement',
    preheader: `Quelques informations manquent encore sur la fiche de ${FR_ESTABLISHMENT}.`,
    heading: 'Votre fiche établissement est à compléter',
    paragraphs: [
      `Pour que ${FR_ESTABLISHMENT} puisse accueillir des voyageurs sur Voyages, quelques informations doivent encore être complétées.`,
      'Rendez-vous sur sa fiche pour vérifier les éléments manquants et les compléter. Une fiche complète et précise rassure les voyageurs au moment de réserver.',
    ],
    buttonLabel: 'Compléter la fiche',
  },
  USER_ACCOUNT_ACTIVATION_CONFIRMATION: {
    subject: 'Bienvenue sur Voyages : votre compte est activé',
    preheader: 'Vous pouvez dès maintenant vous connecter et préparer votre prochain voyage.',
    heading: 'Bienvenue sur Voyages !',
    paragraphs: [
      'Votre compte est désormais activé. Nous sommes ravis de vous compter parmi nous.',
      'Connectez-vous pour découvrir nos voyages, réserver en quelques clics et retrouver toutes vos réservations au même endroit.',
    ],
    buttonLabel: 'Me connecter',
  },
  ORGANIZATION_ACTIVATION_CONFIRMATION: {
    subject: 'Votre organisation{{#if vars.organizationName}} {{vars.organizationName}}{{/if}} est activée',
    preheader: 'Vous pouvez dès à présent créer et publier vos voyages.',
    heading: 'Votre organisation est active',
    paragraphs: [
      `Bonne nouvelle : ${FR_ORGANIZATION} a été validée et est désormais active sur Voyages.`,
      'Vous pouvez dès à présent créer vos voyages, les publier et suivre leurs réservations depuis votre espace.',
    ],
    buttonLabel: 'Accéder à mon organisation',
  },
  ESTABLISHMENT_ACTIVATION_CONFIRMATION: {
    subject: 'Votre établissement{{#if vars.establishmentName}} {{vars.establishmentName}}{{/if}} est activé',
    preheader: 'Il est désormais visible des voyageurs et peut recevoir des réservations.',
    heading: 'Votre établissement est en ligne',
    paragraphs: [
      `Bonne nouvelle : ${FR_ESTABLISHMENT} a été validé et est désormais actif sur Voyages.`,
      'Il est visible des voyageurs et peut recevoir des réservations. Pensez à garder sa fiche à jour : coordonnées, présentation et informations pratiques.',
    ],
    buttonLabel: 'Accéder à mon établissement',
  },
  TRIP_DRAFT_PUBLICATION_REQUEST: {
    subject: 'Demande de publication reçue : {{#if vars.tripTitle}}« {{vars.tripTitle}} »{{else}}voyage {{publicationId}}{{/if}}',
    preheader: 'Votre brouillon est en cours de relecture avant sa mise en ligne.',
    heading: 'Votre voyage est en cours de relecture',
    paragraphs: [
      `Nous avons bien reçu votre demande de publication pour ${FR_TRIP}.`,
      'Notre équipe relit actuellement votre brouillon. Vous recevrez un e-mail dès que le voyage sera publié et ouvert à la réservation.',
      'D’ici là, vous pouvez consulter votre brouillon à tout moment.',
    ],
    buttonLabel: 'Voir mon brouillon',
  },
  TRIP_PUBLICATION_NOTIFICATION: {
    subject: 'Votre voyage {{#if vars.tripTitle}}« {{vars.tripTitle}} »{{else}}{{publicationId}}{{/if}} est en ligne',
    preheader: 'Il est désormais visible des voyageurs et ouvert à la réservation.',
    heading: 'Votre voyage est publié !',
    paragraphs: [
      `Bonne nouvelle : ${FR_TRIP} est désormais publié sur Voyages{{#if vars.departureDate}}, pour un départ le {{vars.departureDate}}{{/if}}.`,
      'Les voyageurs peuvent dès à présent le découvrir et le réserver. Vous pouvez suivre ses réservations depuis sa page.',
    ],
    buttonLabel: 'Voir mon voyage',
  },
  TRIP_RESPONSIBLE_DESIGNATION_NOTIFICATION: {
    subject: 'Vous êtes responsable du voyage {{#if vars.tripTitle}}« {{vars.tripTitle}} »{{else}}{{publicationId}}{{/if}}',
    preheader: 'La responsabilité de ce voyage vous a été confiée.',
    heading: 'Un voyage vous est confié',
    paragraphs: [
      `La responsabilité ${FR_OF_TRIP} vous a été confiée{{#if vars.organizationName}} par {{vars.organizationName}}{{/if}}.`,
      'À ce titre, vous êtes la personne de référence pour ce voyage : vous suivez ses réservations et répondez aux questions des voyageurs{{#if vars.departureDate}} jusqu’au départ, prévu le {{vars.departureDate}}{{/if}}.',
      'Retrouvez dès maintenant toutes les informations du voyage sur sa page.',
    ],
    buttonLabel: 'Voir le voyage',
  },
  PARTNER_TRIP_BOOKING_NOTIFICATION: {
    subject: 'Nouvelle réservation {{reservationId}}{{#if vars.tripTitle}} : {{vars.tripTitle}}{{/if}}',
    preheader: '{{#if vars.customerName}}{{vars.customerName}} vient de réserver{{else}}Un voyageur vient de réserver{{/if}}{{#if vars.departureDate}} pour le départ du {{vars.departureDate}}{{/if}}.',
    heading: 'Vous avez une nouvelle réservation',
    paragraphs: [
      `{{#if vars.customerName}}{{vars.customerName}} vient de réserver{{else}}Un voyageur vient de réserver{{/if}} ${FR_TRIP}{{#if vars.departureDate}}, avec un départ prévu le {{vars.departureDate}}{{/if}}.`,
      FR_BOOKING_FACTS,
      'Toutes les informations utiles sont disponibles sur la page de la réservation.',
    ],
    buttonLabel: 'Voir la réservation',
  },
  CLIENT_TRIP_BOOKING_NOTIFICATION: {
    subject: 'Votre réservation {{reservationId}} est bien enregistrée',
    preheader: 'Merci ! Retrouvez le détail de votre réservation{{#if vars.tripTitle}} pour « {{vars.tripTitle}} »{{/if}}{{#if vars.departureDate}}, départ le {{vars.departureDate}}{{/if}}.',
    heading: 'Merci pour votre réservation !',
    paragraphs: [
      `Votre réservation pour ${FR_TRIP}{{#if vars.departureDate}}, avec un départ prévu le {{vars.departureDate}},{{/if}} a bien été enregistrée.`,
      FR_BOOKING_FACTS,
      'Retrouvez à tout moment le détail de votre réservation sur sa page. Pensez à indiquer votre référence si vous contactez notre équipe.',
    ],
    buttonLabel: 'Voir ma réservation',
  },
  PARTNER_BOOKING_CANCELLATION_NOTIFICATION: {
    subject: 'Annulation de la réservation {{reservationId}}',
    preheader: `La réservation {{reservationId}}${frTripOptional('pour le')} a été annulée.`,
    heading: 'Une réservation a été annulée',
    paragraphs: [
      `La réservation n° {{reservationId}}{{#if vars.customerName}} de {{vars.customerName}}{{/if}}${frTripOptional('pour le')}{{#if vars.departureDate}} (départ le {{vars.departureDate}}){{/if}} a été annulée.`,
      'Pensez à mettre à jour votre planning et vos disponibilités si nécessaire. Le détail de l’annulation est disponible sur la page de la réservation.',
    ],
    buttonLabel: 'Voir la réservation',
  },
  CLIENT_BOOKING_CANCELLATION_NOTIFICATION: {
    subject: 'Votre réservation {{reservationId}} a été annulée',
    preheader: 'Retrouvez le détail de l’annulation sur la page de votre réservation.',
    heading: 'Votre réservation est annulée',
    paragraphs: [
      `Nous vous confirmons l’annulation de votre réservation n° {{reservationId}}${frTripOptional('pour le')}{{#if vars.departureDate}} (départ le {{vars.departureDate}}){{/if}}.`,
      'Si un remboursement est prévu, vous en trouverez le montant et le suivi sur la page de votre réservation.',
      'Nous espérons vous retrouver très bientôt pour un prochain voyage.',
    ],
    buttonLabel: 'Voir le détail',
  },
  PARTNER_PAYMENT_NOTIFICATION: {
    subject: 'Paiement reçu pour la réservation {{reservationId}}',
    preheader: 'Le paiement{{#if vars.amount}} de {{vars.amount}}{{/if}} pour la réservation {{reservationId}} a bien été reçu.',
    heading: 'Un paiement a été reçu',
    paragraphs: [
      `Nous avons bien reçu le paiement{{#if vars.amount}} de {{vars.amount}}{{/if}}{{#if vars.customerName}} effectué par {{vars.customerName}}{{/if}} pour la réservation n° {{reservationId}}${frTripOptional('du')}.`,
      'Le détail du paiement est disponible sur la page de la réservation.',
    ],
    buttonLabel: 'Voir la réservation',
  },
  CLIENT_PAYMENT_NOTIFICATION: {
    subject: 'Confirmation de paiement – réservation {{reservationId}}',
    preheader: 'Votre paiement{{#if vars.amount}} de {{vars.amount}}{{/if}} a bien été reçu. Merci !',
    heading: 'Merci pour votre paiement',
    paragraphs: [
      `Nous avons bien reçu votre paiement{{#if vars.amount}} de {{vars.amount}}{{/if}} pour la réservation n° {{reservationId}}${frTripOptional('du')}.`,
      'Le détail du paiement est disponible à tout moment sur la page de votre réservation. Merci de votre confiance !',
    ],
    buttonLabel: 'Voir ma réservation',
  },
  TRIP_REMINDER_NOTIFICATION: {
    subject: 'Bientôt le départ : {{#if vars.tripTitle}}« {{vars.tripTitle}} »{{else}}voyage {{publicationId}}{{/if}} (réservation {{reservationId}})',
    preheader: '{{#if vars.departureDate}}Départ le {{vars.departureDate}}. {{/if}}Vérifiez les derniers détails avant de partir.',
    heading: 'Votre voyage approche !',
    paragraphs: [
      `Le départ ${FR_OF_TRIP} approche{{#if vars.departureDate}} : il est prévu le {{vars.departureDate}}{{/if}}.`,
      'C’est le bon moment pour vérifier les détails de votre réservation n° {{reservationId}} : horaires, lieu de rendez-vous et documents à emporter.',
      'Nous vous souhaitons un excellent voyage !',
    ],
    buttonLabel: 'Préparer mon départ',
  },
};

const EN_MAILS: Record<MailCategory, MailCopy> = {
  PROFILE_COMPLETION_REQUEST: {
    subject: 'Complete your Voyages profile',
    preheader: 'A few details are still missing from your profile: it only takes a few minutes.',
    heading: 'Your profile is almost complete',
    paragraphs: [
      'Your Voyages profile is still missing a few details.',
      'A complete profile makes your bookings and exchanges on the platform easier. It only takes a few minutes.',
    ],
    buttonLabel: 'Complete my profile',
  },
  ORGANIZATION_CREATION_REQUEST: {
    subject: 'We’ve received your organization creation request',
    preheader: 'Our team is reviewing your request: you’ll get an e-mail as soon as it is activated.',
    heading: 'Your request is being reviewed',
    paragraphs: [
      `We’ve received the request to create ${EN_ORGANIZATION} on Voyages. Thank you for your trust!`,
      'Our team is now reviewing it. You’ll receive an e-mail as soon as your organization is activated.',
      'In the meantime, you can open its page and check that all its details are accurate and complete.',
    ],
    buttonLabel: 'View my organization',
  },
  ESTABLISHMENT_CREATION_REQUEST: {
    subject: 'We’ve received your establishment creation request',
    preheader: 'Our team is checking your request: you’ll get an e-mail as soon as your establishment is activated.',
    heading: 'Your establishment is being validated',
    paragraphs: [
      `We’ve received the request to create ${EN_ESTABLISHMENT} on Voyages{{#if vars.organizationName}}, part of {{vars.organizationName}}{{/if}}. Thank you for your trust!`,
      'Our team is now checking it. You’ll receive an e-mail as soon as your establishment is activated and visible to travellers.',
      'In the meantime, you can open its page and fill in its description, contact details and practical information.',
    ],
    buttonLabel: 'View my establishment',
  },
  ORGANIZATION_INFO_COMPLETION_REQUEST: {
    subject: 'Action required: complete your organization’s details',
    preheader: `A few details are needed to finalize ${EN_ORGANIZATION}.`,
    heading: 'Just a few more details',
    paragraphs: [
      `To finalize ${EN_ORGANIZATION}, we need some additional information.`,
      'Open its page to see what is missing and fill it in. Your organization can be activated as soon as its file is complete.',
    ],
    buttonLabel: 'Complete the details',
  },
  ESTABLISHMENT_INFO_COMPLETION_REQUEST: {
    subject: 'Action required: complete your establishment’s details',
    preheader: `A few details are still missing from the page of ${EN_ESTABLISHMENT}.`,
    heading: 'Your establishment page needs a few details',
    paragraphs: [
      `For ${EN_ESTABLISHMENT} to welcome travellers on Voyages, a few details still need to be filled in.`,
      'Open its page to see what is missing and complete it. A complete, accurate page reassures travellers when they book.',
    ],
    buttonLabel: 'Complete the page',
  },
  USER_ACCOUNT_ACTIVATION_CONFIRMATION: {
    subject: 'Welcome to Voyages: your account is active',
    preheader: 'You can now sign in and plan your next trip.',
    heading: 'Welcome to Voyages!',
    paragraphs: [
      'Your account is now active. We’re delighted to have you with us.',
      'Sign in to discover our trips, book in a few clicks and find all your bookings in one place.',
    ],
    buttonLabel: 'Sign in',
  },
  ORGANIZATION_ACTIVATION_CONFIRMATION: {
    subject: 'Your organization{{#if vars.organizationName}} {{vars.organizationName}}{{/if}} is now active',
    preheader: 'You can now create and publish your trips.',
    heading: 'Your organization is active',
    paragraphs: [
      `Good news: ${EN_ORGANIZATION} has been approved and is now active on Voyages.`,
      'You can now create your trips, publish them and follow their bookings from your account.',
    ],
    buttonLabel: 'Go to my organization',
  },
  ESTABLISHMENT_ACTIVATION_CONFIRMATION: {
    subject: 'Your establishment{{#if vars.establishmentName}} {{vars.establishmentName}}{{/if}} is now active',
    preheader: 'It is now visible to travellers and can receive bookings.',
    heading: 'Your establishment is live',
    paragraphs: [
      `Good news: ${EN_ESTABLISHMENT} has been approved and is now active on Voyages.`,
      'It is visible to travellers and can receive bookings. Remember to keep its page up to date: contact details, description and practical information.',
    ],
    buttonLabel: 'Go to my establishment',
  },
  TRIP_DRAFT_PUBLICATION_REQUEST: {
    subject: 'Publication request received: {{#if vars.tripTitle}}“{{vars.tripTitle}}”{{else}}trip {{publicationId}}{{/if}}',
    preheader: 'Your draft is being reviewed before it goes live.',
    heading: 'Your trip is being reviewed',
    paragraphs: [
      `We’ve received your request to publish ${EN_TRIP}.`,
      'Our team is now reviewing your draft. You’ll receive an e-mail as soon as the trip is published and open for booking.',
      'Until then, you can view your draft at any time.',
    ],
    buttonLabel: 'View my draft',
  },
  TRIP_PUBLICATION_NOTIFICATION: {
    subject: 'Your trip {{#if vars.tripTitle}}“{{vars.tripTitle}}”{{else}}{{publicationId}}{{/if}} is live',
    preheader: 'It is now visible to travellers and open for booking.',
    heading: 'Your trip is published!',
    paragraphs: [
      `Good news: ${EN_TRIP} is now published on Voyages{{#if vars.departureDate}}, departing on {{vars.departureDate}}{{/if}}.`,
      'Travellers can now discover and book it. You can follow its bookings from its page.',
    ],
    buttonLabel: 'View my trip',
  },
  TRIP_RESPONSIBLE_DESIGNATION_NOTIFICATION: {
    subject: 'You are now in charge of the trip {{#if vars.tripTitle}}“{{vars.tripTitle}}”{{else}}{{publicationId}}{{/if}}',
    preheader: 'You have been put in charge of this trip.',
    heading: 'A trip has been entrusted to you',
    paragraphs: [
      `You have been put in charge of ${EN_TRIP}{{#if vars.organizationName}} by {{vars.organizationName}}{{/if}}.`,
      'As such, you are the point of contact for this trip: you follow its bookings and answer travellers’ questions{{#if vars.departureDate}} until departure on {{vars.departureDate}}{{/if}}.',
      'All the trip’s information is available on its page.',
    ],
    buttonLabel: 'View the trip',
  },
  PARTNER_TRIP_BOOKING_NOTIFICATION: {
    subject: 'New booking {{reservationId}}{{#if vars.tripTitle}}: {{vars.tripTitle}}{{/if}}',
    preheader: '{{#if vars.customerName}}{{vars.customerName}} has just booked{{else}}A traveller has just booked{{/if}}{{#if vars.departureDate}} for the departure on {{vars.departureDate}}{{/if}}.',
    heading: 'You have a new booking',
    paragraphs: [
      `{{#if vars.customerName}}{{vars.customerName}} has just booked{{else}}A traveller has just booked{{/if}} ${EN_TRIP}{{#if vars.departureDate}}, departing on {{vars.departureDate}}{{/if}}.`,
      EN_BOOKING_FACTS,
      'All the useful information is available on the booking page.',
    ],
    buttonLabel: 'View the booking',
  },
  CLIENT_TRIP_BOOKING_NOTIFICATION: {
    subject: 'Your booking {{reservationId}} has been recorded',
    preheader: 'Thank you! Find all the details of your booking{{#if vars.tripTitle}} for “{{vars.tripTitle}}”{{/if}}{{#if vars.departureDate}}, departing on {{vars.departureDate}}{{/if}}.',
    heading: 'Thank you for your booking!',
    paragraphs: [
      `Your booking for ${EN_TRIP}{{#if vars.departureDate}}, departing on {{vars.departureDate}},{{/if}} has been recorded.`,
      EN_BOOKING_FACTS,
      'You can view the details of your booking at any time on its page. Please quote your booking reference if you contact our team.',
    ],
    buttonLabel: 'View my booking',
  },
  PARTNER_BOOKING_CANCELLATION_NOTIFICATION: {
    subject: 'Booking {{reservationId}} has been cancelled',
    preheader: `Booking {{reservationId}}${enTripOptional('for')} has been cancelled.`,
    heading: 'A booking has been cancelled',
    paragraphs: [
      `Booking {{reservationId}}{{#if vars.customerName}} made by {{vars.customerName}}{{/if}}${enTripOptional('for')}{{#if vars.departureDate}} (departing on {{vars.departureDate}}){{/if}} has been cancelled.`,
      'Remember to update your plans and availability if needed. The details of the cancellation are available on the booking page.',
    ],
    buttonLabel: 'View the booking',
  },
  CLIENT_BOOKING_CANCELLATION_NOTIFICATION: {
    subject: 'Your booking {{reservationId}} has been cancelled',
    preheader: 'The details of the cancellation are on your booking page.',
    heading: 'Your booking is cancelled',
    paragraphs: [
      `We confirm that your booking {{reservationId}}${enTripOptional('for')}{{#if vars.departureDate}} (departing on {{vars.departureDate}}){{/if}} has been cancelled.`,
      'If a refund applies, you will find its amount and progress on your booking page.',
      'We hope to see you again soon for another trip.',
    ],
    buttonLabel: 'View the details',
  },
  PARTNER_PAYMENT_NOTIFICATION: {
    subject: 'Payment received for booking {{reservationId}}',
    preheader: 'The payment{{#if vars.amount}} of {{vars.amount}}{{/if}} for booking {{reservationId}} has been received.',
    heading: 'A payment has been received',
    paragraphs: [
      `We have received the payment{{#if vars.amount}} of {{vars.amount}}{{/if}}{{#if vars.customerName}} made by {{vars.customerName}}{{/if}} for booking {{reservationId}}${EN_TRIP_IN_BRACKETS}.`,
      'The payment details are available on the booking page.',
    ],
    buttonLabel: 'View the booking',
  },
  CLIENT_PAYMENT_NOTIFICATION: {
    subject: 'Payment confirmation – booking {{reservationId}}',
    preheader: 'Your payment{{#if vars.amount}} of {{vars.amount}}{{/if}} has been received. Thank you!',
    heading: 'Thank you for your payment',
    paragraphs: [
      `We have received your payment{{#if vars.amount}} of {{vars.amount}}{{/if}} for booking {{reservationId}}${EN_TRIP_IN_BRACKETS}.`,
      'The payment details are available at any time on your booking page. Thank you for your trust!',
    ],
    buttonLabel: 'View my booking',
  },
  TRIP_REMINDER_NOTIFICATION: {
    subject: 'Your departure is coming up: {{#if vars.tripTitle}}“{{vars.tripTitle}}”{{else}}trip {{publicationId}}{{/if}} (booking {{reservationId}})',
    preheader: '{{#if vars.departureDate}}Departure on {{vars.departureDate}}. {{/if}}Check the last details before you leave.',
    heading: 'Your trip is coming up!',
    paragraphs: [
      `Your departure for ${EN_TRIP} is coming up{{#if vars.departureDate}}: it is scheduled for {{vars.departureDate}}{{/if}}.`,
      'Now is a good time to check the details of your booking {{reservationId}}: schedules, meeting point and documents to bring.',
      'We wish you a wonderful trip!',
    ],
    buttonLabel: 'Prepare my trip',
  },
};

export const MAIL_COPY: Record<Locale, Record<MailCategory, MailCopy>> = {
  fr: frenchCopy(FR_MAILS),
  en: EN_MAILS,
};

// ---------------------------------------------------------------------------------------------
// Contact us
// ---------------------------------------------------------------------------------------------

const FR_CONTACT: Record<ContactMailKind, MailCopy> = {
  CONTACT_FORWARD: {
    subject: '[Contact] {{#if object}}{{object}}{{else}}Nouveau message{{/if}}',
    preheader: 'Nouveau message{{#if name}} de {{name}}{{/if}}{{#if mail}} ({{mail}}){{/if}}',
    heading: 'Nouveau message via le formulaire de contact',
    paragraphs: [
      '{{#if name}}{{name}}{{else}}Un visiteur{{/if}}{{#if mail}} ({{mail}}){{/if}} a écrit au support{{#if object}} au sujet de « {{object}} »{{/if}}.{{#if contactId}} Référence : {{contactId}}.{{/if}}',
      'Pour lui répondre, répondez simplement à cet e-mail{{#if mail}} : votre réponse sera adressée à {{mail}}{{/if}}.',
      '{{#if message}}Son message :{{/if}}',
    ],
    buttonLabel: 'Voir le message',
  },
  CONTACT_ACKNOWLEDGEMENT: {
    subject: 'Nous avons bien reçu votre message{{#if object}} : {{object}}{{/if}}',
    preheader: 'Merci de nous avoir écrit : notre équipe vous répond dans les meilleurs délais.',
    heading: 'Merci pour votre message',
    paragraphs: [
      'Nous avons bien reçu votre message{{#if object}} au sujet de « {{object}} »{{/if}} et nous vous remercions de nous avoir écrit.',
      'Notre équipe vous répondra dans les meilleurs délais, en général sous deux jours ouvrés{{#if mail}}, à l’adresse {{mail}}{{/if}}.{{#if contactId}} Référence de votre demande : {{contactId}}.{{/if}}',
      '{{#if message}}Pour rappel, voici votre message :{{/if}}',
    ],
    buttonLabel: 'Voir ma demande',
  },
  CONTACT_REPLY: {
    subject: 'Re: {{#if object}}{{object}}{{else}}votre demande{{/if}}',
    preheader: 'Nouveau message{{#if name}} de {{name}}{{/if}} dans votre conversation{{#if object}} « {{object}} »{{/if}}.',
    heading: 'Nouveau message dans votre conversation',
    paragraphs: [
      'Un nouveau message{{#if name}} de {{name}}{{/if}} a été publié dans la conversation{{#if object}} « {{object}} »{{/if}}{{#if conversationId}} (référence {{conversationId}}){{/if}}.',
      '{{#if message}}Voici son contenu :{{/if}}',
    ],
    buttonLabel: 'Voir la conversation',
  },
};

const EN_CONTACT: Record<ContactMailKind, MailCopy> = {
  CONTACT_FORWARD: {
    subject: '[Contact] {{#if object}}{{object}}{{else}}New message{{/if}}',
    preheader: 'New message{{#if name}} from {{name}}{{/if}}{{#if mail}} ({{mail}}){{/if}}',
    heading: 'New message from the contact form',
    paragraphs: [
      '{{#if name}}{{name}}{{else}}A visitor{{/if}}{{#if mail}} ({{mail}}){{/if}} wrote to the support team{{#if object}} about “{{object}}”{{/if}}.{{#if contactId}} Reference: {{contactId}}.{{/if}}',
      'To answer, simply reply to this e-mail{{#if mail}}: your reply will go to {{mail}}{{/if}}.',
      '{{#if message}}Their message:{{/if}}',
    ],
    buttonLabel: 'View the message',
  },
  CONTACT_ACKNOWLEDGEMENT: {
    subject: 'We’ve received your message{{#if object}}: {{object}}{{/if}}',
    preheader: 'Thank you for writing to us: our team will get back to you as soon as possible.',
    heading: 'Thank you for your message',
    paragraphs: [
      'We’ve received your message{{#if object}} about “{{object}}”{{/if}} and thank you for writing to us.',
      'Our team will get back to you as soon as possible, usually within two working days{{#if mail}}, at {{mail}}{{/if}}.{{#if contactId}} Your request reference: {{contactId}}.{{/if}}',
      '{{#if message}}For your records, here is your message:{{/if}}',
    ],
    buttonLabel: 'View my request',
  },
  CONTACT_REPLY: {
    subject: 'Re: {{#if object}}{{object}}{{else}}your enquiry{{/if}}',
    preheader: 'New message{{#if name}} from {{name}}{{/if}} in your conversation{{#if object}} “{{object}}”{{/if}}.',
    heading: 'New message in your conversation',
    paragraphs: [
      'A new message{{#if name}} from {{name}}{{/if}} has been posted in the conversation{{#if object}} “{{object}}”{{/if}}{{#if conversationId}} (reference {{conversationId}}){{/if}}.',
      '{{#if message}}Here it is:{{/if}}',
    ],
    buttonLabel: 'View the conversation',
  },
};

export const CONTACT_COPY: Record<Locale, Record<ContactMailKind, MailCopy>> = {
  fr: frenchCopy(FR_CONTACT),
  en: EN_CONTACT,
};
