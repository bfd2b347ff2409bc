// settings.js — the Settings (#/settings) and Integrations
// (#/settings/integrations) index pages: short lists of links into the
// settings areas, so the gear → Integrations → FMS Configuration path of
// the help article exists as real pages.

import { h, heading } from './dom.js';

function tile(href, title, text, id) {
  return h('li', { class: 'tile' },
    h('a', { href, id }, h('span', { class: 'tile-title' }, title)),
    h('p', { class: 'muted' }, text));
}

export async function render(root, ctx) {
  const integrations = ctx.route === '/settings/integrations';
  if (integrations) {
    document.title = 'Integrations · Settings · appointd';
    root.append(h('section', { id: 'integrations', class: 'card' },
      heading('Integrations'),
      h('ul', { class: 'tiles' },
        tile('#/settings/integrations/fms', 'FMS Configuration',
          'Connect appointd to ServiceTitan (V2 API): Tenant ID, Client ID and Client Secret.', 'tile-fms'))));
    return;
  }
  document.title = 'Settings · appointd';
  root.append(h('section', { id: 'settings', class: 'card' },
    heading('Settings'),
    h('ul', { class: 'tiles' },
      tile('#/settings/integrations', 'Integrations', 'Your field management software (FMS): ServiceTitan.', 'tile-integrations'),
      tile('#/settings/users', 'Users & permissions', 'Who can sign in, and who may manage integrations and schedulers.', 'tile-users'))));
}
