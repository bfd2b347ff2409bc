// demo-scheduler.mjs — the demo's scheduler ("Lone Star Comfort & Plumbing",
// the sample site's widget), made from the account's ServiceTitan catalog as
// stsim's demo tenant holds it: five services mapped to their job types and
// business units by name, the ServiceTitan zones as the service area,
// ServiceTitan's capacity, the tenant's default campaign ("Website") with
// rules sending Google Ads clicks (utm_source=google, or a gclid) to "Google
// Ads" and Yelp's to "Yelp", and the sample site as the allowed website.
//
//   appointd catalog show ACCOUNT --json | node scripts/demo-scheduler.mjs http://127.0.0.1:8090 > sched.json
//
// A name missing from the catalog is an error naming it (the demo stops).
import { readFileSync } from 'node:fs';

const SERVICES = [
  { id: 'ac-repair', jobType: 'AC Repair', label: 'AC repair', description: 'No cool air, strange noises or leaks.',
    question: 'Is the unit blowing warm air?' },
  { id: 'ac-tune-up', jobType: 'AC Tune-Up', label: 'AC tune-up', description: 'Yearly check so it runs all summer.' },
  { id: 'drain-cleaning', jobType: 'Drain Cleaning', label: 'Drain cleaning', description: 'Slow or blocked sinks, tubs and lines.' },
  { id: 'water-heater-repair', jobType: 'Water Heater Repair', label: 'Water heater repair', description: 'No hot water, leaks or pilot trouble.' },
  { id: 'electrical', jobType: 'Electrical Troubleshooting', label: 'Electrical troubleshooting', description: 'Tripping breakers, dead outlets, flicker.' },
];

function find(list, name, what) {
  const item = (list || []).find((x) => x.name === name && x.active && !x.deleted);
  if (!item) throw new Error(`the ServiceTitan catalog has no active ${what} "${name}"`);
  return item;
}

export function demoScheduler(catalog, origin) {
  const services = SERVICES.map((s) => {
    const jt = find(catalog.jobTypes, s.jobType, 'job type');
    if (!(jt.businessUnitIds || []).length) throw new Error(`job type "${s.jobType}" has no business unit`);
    const out = { id: s.id, label: s.label, description: s.description, jobTypeId: jt.id, businessUnitId: jt.businessUnitIds[0],
      summary: 'Online booking: {{service}}. {{answers}} {{notes}}' };
    if (s.question) out.question = s.question;
    return out;
  });
  const website = (catalog.campaigns || []).find((c) => c.active && c.isDefaultCampaign) || find(catalog.campaigns, 'Website', 'campaign');
  const google = find(catalog.campaigns, 'Google Ads', 'campaign');
  const yelp = find(catalog.campaigns, 'Yelp', 'campaign');
  return {
    name: 'Lone Star Comfort & Plumbing',
    timeZone: 'America/Chicago',
    mode: 'job',
    allowedOrigins: [new URL(origin).origin],
    services,
    rules: { minNoticeMinutes: 120, horizonDays: 14 },
    serviceArea: { zones: 'servicetitan' },
    capacity: 'servicetitan',
    campaignId: website.id,
    campaignRules: [
      { match: { utm_source: 'google' }, campaignId: google.id },
      { match: { gclid: '*' }, campaignId: google.id },
      { match: { utm_source: 'yelp' }, campaignId: yelp.id },
    ],
    branding: { primaryColor: '#b4441b', buttonLabel: 'Book online' },
    phone: '(214) 555-0123',
  };
}

if (process.argv[1] && process.argv[1].endsWith('demo-scheduler.mjs')) {
  try {
    const catalog = JSON.parse(readFileSync(0, 'utf8'));
    process.stdout.write(`${JSON.stringify(demoScheduler(catalog, process.argv[2]), null, 2)}\n`);
  } catch (e) {
    console.error(`demo: cannot make the demo scheduler: ${e.message}`);
    process.exit(1);
  }
}
