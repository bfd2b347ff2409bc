// steps.js — the order of the booking steps and who draws each (choose.js:
// service, ZIP, day and window; details.js: contact, review, confirmation,
// and the screen for a scheduler that cannot be read).
import { service, zip, when } from './choose.js';
import { contact, review, done, unavailable } from './details.js';

export const STEPS = ['service', 'zip', 'when', 'contact', 'review', 'done'];
export const renderers = { service, zip, when, contact, review, done, unavailable };
